using Marten;
using Marten.Schema;
using UsageSlices.Domain;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The catalog of DESIGN.md. At start-up only what is missing is added, so an admin's changes survive a restart;
/// the <c>seed</c> command upserts every tier and feature back to these values, as <c>prisma db seed</c> did.
/// </summary>
public sealed class CatalogSeed : IInitialData
{
    public Task Populate(IDocumentStore store, CancellationToken cancellation) => AddMissingAsync(store, cancellation);

    public static async Task AddMissingAsync(IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var features = await session.LoadManyAsync<UsageFeature>(cancellation, DefaultCatalog.Features.Select(f => f.Code));
        var tiers = await session.LoadManyAsync<SubscriptionTier>(cancellation, DefaultCatalog.Tiers.Select(t => t.Code));
        session.Store(DefaultCatalog.Features.ExceptBy(features.Select(f => f.Code), f => f.Code).ToArray());
        session.Store(DefaultCatalog.Tiers.ExceptBy(tiers.Select(t => t.Code), t => t.Code).ToArray());
        await session.SaveChangesAsync(cancellation);
    }

    /// <returns>How many tiers and features were added or changed.</returns>
    public static async Task<int> UpsertAllAsync(IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var features = (await session.LoadManyAsync<UsageFeature>(cancellation, DefaultCatalog.Features.Select(f => f.Code))).ToDictionary(f => f.Code);
        var tiers = (await session.LoadManyAsync<SubscriptionTier>(cancellation, DefaultCatalog.Tiers.Select(t => t.Code))).ToDictionary(t => t.Code);
        var changedFeatures = DefaultCatalog.Features.Where(f => features.GetValueOrDefault(f.Code) != f).ToArray();
        var changedTiers = DefaultCatalog.Tiers.Where(t => !SameTier(tiers.GetValueOrDefault(t.Code), t)).ToArray();
        session.Store(changedFeatures);
        session.Store(changedTiers);
        await session.SaveChangesAsync(cancellation);
        return changedFeatures.Length + changedTiers.Length;
    }

    private static bool SameTier(SubscriptionTier? stored, SubscriptionTier seeded) =>
        stored is not null
        && stored with { Limits = seeded.Limits, AlertThresholds = seeded.AlertThresholds } == seeded
        && stored.AlertThresholds.SequenceEqual(seeded.AlertThresholds)
        && stored.Limits.Count == seeded.Limits.Count
        && seeded.Limits.All(limit => stored.Limits.TryGetValue(limit.Key, out var value) && value == limit.Value);
}
