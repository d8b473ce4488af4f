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

    /// <summary>Reads the runbook views, so these numbers are the ones its SQL gives.</summary>
    public static async Task<Outcome<UsageStats>> Handle(GetUsageStats query, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        var now = time.GetUtcNow();
        var tiers = await session.AdvancedSql.QueryAsync<TierCount>(
            $"""
            select jsonb_build_object('tier', subscription_tier, 'organisations', count(*))
            from {schema}.organisations group by subscription_tier order by subscription_tier
            """,
            cancellation);
        var activity = await session.AdvancedSql.QueryAsync<FeatureActivity>(
            $"""
            select jsonb_build_object('feature', feature, 'eventsLastHour', count(*) filter (where created_at > ?), 'eventsLast24Hours', count(*))
            from {schema}.usage_events where created_at > ? group by feature order by feature
            """,
            cancellation, now.AddHours(-1), now.AddHours(-24));

        // The 24 clock hours up to and including the current one, oldest first; an hour without events counts 0.
        var currentHour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour), TimeSpan.Zero);
        var firstHour = currentHour.AddHours(-(HoursCharted - 1));
        var hours = (await session.AdvancedSql.QueryAsync<HourActivity>(
            $"""
            select jsonb_build_object('hour', date_trunc('hour', created_at, 'UTC'), 'events', count(*))
            from {schema}.usage_events where created_at >= ? group by date_trunc('hour', created_at, 'UTC')
            """,
            cancellation, firstHour)).ToDictionary(h => h.Hour.UtcTicks, h => h.Events);
        var perHour = Enumerable.Range(0, HoursCharted)
            .Select(i => firstHour.AddHours(i))
            .Select(hour => new HourActivity(hour, hours.GetValueOrDefault(hour.UtcTicks)))
            .ToList();

        return new UsageStats(
            tiers.ToDictionary(t => t.Tier, t => t.Organisations), tiers.Sum(t => t.Organisations),
            activity.Sum(f => f.EventsLastHour), activity.Sum(f => f.EventsLast24Hours), activity, perHour, now);
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
