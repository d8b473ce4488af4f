using Marten;
using Marten.Services.BatchQuerying;

namespace UsageSlices.Domain.Usage;

/// <summary>Organisations, their overrides and the catalog they are measured against, read together.</summary>
public sealed record UsageCatalog(
    IReadOnlyDictionary<string, Organisation> Organisations,
    IReadOnlyList<UsageFeature> Features,
    IReadOnlyList<SubscriptionTier> Tiers,
    IReadOnlyDictionary<string, LimitOverride> Overrides)
{
    public UsageFeature? Feature(string code) => Features.FirstOrDefault(feature => feature.Code == code);

    public SubscriptionTier? TierOf(Organisation organisation) => Tiers.FirstOrDefault(tier => tier.Code == organisation.Tier);

    /// <summary>The alert thresholds of the organisation's tier (the default when its tier no longer exists).</summary>
    public IReadOnlyList<int> ThresholdsOf(Organisation organisation) => TierOf(organisation)?.AlertThresholds ?? UsageAlerts.DefaultThresholds;

    /// <summary>The effective limit of <paramref name="feature"/> for <paramref name="organisation"/> at <paramref name="now"/>.</summary>
    public EffectiveLimit LimitOf(Organisation organisation, UsageFeature feature, DateTimeOffset now) =>
        EffectiveLimit.Of(TierOf(organisation), feature, Overrides.GetValueOrDefault(LimitOverride.KeyFor(organisation.Id, feature.Code)), now);

    /// <summary>The part of this catalog that concerns one of its organisations: it, its overrides, the features and tiers.</summary>
    public UsageCatalog Of(string orgId) => this with
    {
        Organisations = new Dictionary<string, Organisation> { [orgId] = Organisations[orgId] },
        Overrides = Overrides.Values.Where(o => o.OrgId == orgId).ToDictionary(o => o.Id),
    };

    /// <summary>The catalogs of several organisations as one (their features and tiers are the same: read at one version).</summary>
    public static UsageCatalog Merge(IReadOnlyList<UsageCatalog> catalogs) =>
        catalogs.Count == 1 ? catalogs[0] : new UsageCatalog(
            catalogs.SelectMany(c => c.Organisations).ToDictionary(), catalogs[0].Features, catalogs[0].Tiers,
            catalogs.SelectMany(c => c.Overrides).ToDictionary());
}

/// <summary>Where decisions read the catalog: held in memory and checked against the database (<c>CatalogCache</c>).</summary>
public interface IUsageCatalogs
{
    /// <summary>The catalog of <paramref name="orgIds"/> as it stands now (read-your-writes across instances).</summary>
    Task<UsageCatalog> CatalogOfAsync(IQuerySession session, IReadOnlyCollection<string> orgIds, CancellationToken cancellation);
}

/// <summary>What a check, a queued track or a reservation reads before it decides.</summary>
public sealed record UsageTarget(Organisation? Organisation, UsageFeature? Feature, UsageCatalog Catalog);

public static class UsageReads
{
    /// <summary>
    /// The organisations with their overrides, every feature (ordered by code) and every tier in one round trip to
    /// PostgreSQL (a Marten batch query) instead of one each: the catalog is a handful of rows, so it is read whole.
    /// </summary>
    public static async Task<UsageCatalog> LoadCatalogAsync(
        this IQuerySession session, IEnumerable<string> orgIds, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var catalog = batch.CatalogOf(orgIds);
        await batch.Execute(cancellation);
        return await catalog;
    }

    /// <summary>The catalog's reads added to <paramref name="batch"/>, for a caller that reads more in the same round trip.</summary>
    public static async Task<UsageCatalog> CatalogOf(this IBatchedQuery batch, IEnumerable<string> orgIds)
    {
        var ids = orgIds.Distinct().ToArray();
        var organisations = batch.LoadMany<Organisation>().ById(ids);
        var overrides = batch.Query<LimitOverride>().Where(o => ids.Contains(o.OrgId)).ToList();
        var features = batch.Query<UsageFeature>().OrderBy(feature => feature.Code).ToList();
        var tiers = batch.Query<SubscriptionTier>().ToList();
        return new UsageCatalog(
            (await organisations).ToDictionary(organisation => organisation.Id), await features, await tiers,
            (await overrides).ToDictionary(o => o.Id));
    }

    /// <summary>One organisation, one feature and what decides its limit, in one round trip.</summary>
    public static async Task<UsageTarget> LoadUsageTargetAsync(
        this IQuerySession session, string orgId, string featureCode, CancellationToken cancellation)
    {
        var catalog = await session.LoadCatalogAsync([orgId], cancellation);
        return new UsageTarget(catalog.Organisations.GetValueOrDefault(orgId), catalog.Feature(featureCode), catalog);
    }
}
