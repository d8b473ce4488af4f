using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ReportingUsageStats;

/// <summary>The runbook's monitoring figures: organisations per tier, usage events in the last hour and day.</summary>
public sealed record GetUsageStats;

public sealed record TierCount(string Tier, long Organisations);

public sealed record FeatureActivity(string Feature, long EventsLastHour, long EventsLast24Hours);

/// <summary>Usage events recorded in the clock hour starting at <paramref name="Hour"/>.</summary>
public sealed record HourActivity(DateTimeOffset Hour, long Events);

public sealed record UsageStats(
    IReadOnlyDictionary<string, long> OrganisationsByTier,
    long Organisations,
    long EventsLastHour,
    long EventsLast24Hours,
    IReadOnlyList<FeatureActivity> Features,
    IReadOnlyList<HourActivity> EventsPerHour,
    DateTimeOffset AsOf);

public static class GetUsageStatsHandler
{
    public const int HoursCharted = 24;

    /// <summary>
    /// Reads the runbook views, so these numbers are the ones its SQL gives; with shards, in each shard at once, and
    /// added up (each organisation, and each of its events, is in one shard).
    /// </summary>
    public static async Task<Outcome<UsageStats>> Handle(
        GetUsageStats query, IDocumentStore store, DatabaseSettings database, TimeProvider time, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        // The 24 clock hours up to and including the current one, oldest first; an hour without events counts 0.
        var currentHour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour), TimeSpan.Zero);
        var firstHour = currentHour.AddHours(-(HoursCharted - 1));
        var parts = await store.ReadAsync(database, session => CountAsync(session, now, firstHour, cancellation), cancellation);

        var tiers = parts.SelectMany(part => part.Tiers).GroupBy(t => t.Tier, StringComparer.Ordinal)
            .Select(tier => new TierCount(tier.Key, tier.Sum(t => t.Organisations))).OrderBy(t => t.Tier, StringComparer.Ordinal).ToList();
        var activity = parts.SelectMany(part => part.Activity).GroupBy(f => f.Feature, StringComparer.Ordinal)
            .Select(feature => new FeatureActivity(feature.Key, feature.Sum(f => f.EventsLastHour), feature.Sum(f => f.EventsLast24Hours)))
            .OrderBy(f => f.Feature, StringComparer.Ordinal).ToList();
        var hours = parts.SelectMany(part => part.Hours).GroupBy(h => h.Hour.UtcTicks).ToDictionary(hour => hour.Key, hour => hour.Sum(h => h.Events));
        var perHour = Enumerable.Range(0, HoursCharted)
            .Select(i => firstHour.AddHours(i))
            .Select(hour => new HourActivity(hour, hours.GetValueOrDefault(hour.UtcTicks)))
            .ToList();

        return new UsageStats(
            tiers.ToDictionary(t => t.Tier, t => t.Organisations), tiers.Sum(t => t.Organisations),
            activity.Sum(f => f.EventsLastHour), activity.Sum(f => f.EventsLast24Hours), activity, perHour, now);
    }

    private sealed record StatsPart(IReadOnlyList<TierCount> Tiers, IReadOnlyList<FeatureActivity> Activity, IReadOnlyList<HourActivity> Hours);

    private static async Task<StatsPart> CountAsync(IQuerySession session, DateTimeOffset now, DateTimeOffset firstHour, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        var tiers = await session.AdvancedSql.QueryAsync<TierCount>(
            $"""
            select jsonb_build_object('tier', subscription_tier, 'organisations', count(*))
            from {schema}.organisations group by subscription_tier
            """,
            cancellation);
        var activity = await session.AdvancedSql.QueryAsync<FeatureActivity>(
            $"""
            select jsonb_build_object('feature', feature, 'eventsLastHour', count(*) filter (where created_at > ?), 'eventsLast24Hours', count(*))
            from {schema}.usage_events where created_at > ? group by feature
            """,
            cancellation, now.AddHours(-1), now.AddHours(-24));
        var hours = await session.AdvancedSql.QueryAsync<HourActivity>(
            $"""
            select jsonb_build_object('hour', date_trunc('hour', created_at, 'UTC'), 'events', count(*))
            from {schema}.usage_events where created_at >= ? group by date_trunc('hour', created_at, 'UTC')
            """,
            cancellation, firstHour);
        return new StatsPart(tiers, activity, hours);
    }
}

public static class GetUsageStatsEndpoint
{
    public static void MapGetUsageStats(this IEndpointRouteBuilder api) =>
        api.MapGet("/usage/stats", (Delegate)((HttpContext http) => http.Send<GetUsageStats, UsageStats>(new GetUsageStats())))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<UsageStats>()
            .WithName("UsageStats")
            .WithSummary("Organisations by tier and usage events in the last hour and 24 hours, per feature (admin).");
}
