using Marten;
using UsageSlices.Domain;

namespace UsageSlices.Infrastructure;

/// <summary>What a check or a track reads before it decides.</summary>
public sealed record UsageTarget(Organisation? Organisation, UsageFeature? Feature, SubscriptionTier? Tier);

public static class UsageReads
{
    /// <summary>
    /// The organisation, the feature and the organisation's tier in one round trip to PostgreSQL (a Marten batch
    /// query) instead of three: the tier table is a handful of rows, so it is read whole.
    /// </summary>
    public static async Task<UsageTarget> LoadUsageTargetAsync(
        this IQuerySession session, string orgId, string featureCode, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(orgId);
        var feature = batch.Load<UsageFeature>(featureCode);
        var tiers = batch.Query<SubscriptionTier>().ToList();
        await batch.Execute(cancellation);

        var found = await organisation;
        return new UsageTarget(found, await feature, found is null ? null : (await tiers).FirstOrDefault(t => t.Code == found.Tier));
    }
}
