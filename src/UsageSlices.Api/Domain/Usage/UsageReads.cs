using Marten;

namespace UsageSlices.Domain.Usage;

/// <summary>Organisations and the catalog they are measured against, read together.</summary>
public sealed record UsageCatalog(
    IReadOnlyDictionary<string, Organisation> Organisations,
    IReadOnlyList<UsageFeature> Features,
    IReadOnlyList<SubscriptionTier> Tiers)
{
    public UsageFeature? Feature(string code) => Features.FirstOrDefault(feature => feature.Code == code);

    public SubscriptionTier? TierOf(Organisation organisation) => Tiers.FirstOrDefault(tier => tier.Code == organisation.Tier);
}

/// <summary>What a check or a queued track reads before it decides.</summary>
public sealed record UsageTarget(Organisation? Organisation, UsageFeature? Feature, SubscriptionTier? Tier);

public static class UsageReads
{
    /// <summary>
    /// The organisations, every feature (ordered by code) and every tier in one round trip to PostgreSQL (a Marten
    /// batch query) instead of one each: the catalog is a handful of rows, so it is read whole.
    /// </summary>
    public static async Task<UsageCatalog> LoadCatalogAsync(
        this IQuerySession session, IEnumerable<string> orgIds, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisations = batch.LoadMany<Organisation>().ById(orgIds.Distinct().ToArray());
        var features = batch.Query<UsageFeature>().OrderBy(feature => feature.Code).ToList();
        var tiers = batch.Query<SubscriptionTier>().ToList();
        await batch.Execute(cancellation);
        return new UsageCatalog((await organisations).ToDictionary(organisation => organisation.Id), await features, await tiers);
    }

    /// <summary>One organisation, one feature and the organisation's tier, in one round trip.</summary>
    public static async Task<UsageTarget> LoadUsageTargetAsync(
        this IQuerySession session, string orgId, string featureCode, CancellationToken cancellation)
    {
        var catalog = await session.LoadCatalogAsync([orgId], cancellation);
        var organisation = catalog.Organisations.GetValueOrDefault(orgId);
        return new UsageTarget(organisation, catalog.Feature(featureCode), organisation is null ? null : catalog.TierOf(organisation));
    }
}
