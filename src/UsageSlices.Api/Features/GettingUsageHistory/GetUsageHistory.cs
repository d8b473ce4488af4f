using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.GettingUsageHistory;

/// <summary>
/// What organisation <paramref name="OrgId"/> used of <paramref name="Feature"/> per hour, day or period of
/// <c>occurredAt</c> in [<paramref name="From"/>, <paramref name="To"/>) (by default the current period), widened to
/// whole buckets; split by the values of property <paramref name="GroupBy"/> when one is named.
/// </summary>
public sealed record GetUsageHistory(string OrgId, string? Feature, DateTimeOffset? From, DateTimeOffset? To, string? Granularity, string? GroupBy)
    : ITimeRange, IForOrganisation
{
    public static readonly IReadOnlyDictionary<string, Granularity> Granularities = new Dictionary<string, Granularity>
    {
        ["hour"] = Domain.Usage.Granularity.Hour,
        ["day"] = Domain.Usage.Granularity.Day,
        ["period"] = Domain.Usage.Granularity.Period,
    };

    public sealed class Validator : AbstractValidator<GetUsageHistory>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).NotNull().WithMessage("feature is required: the history is of one feature.").MustBeFeatureCode();
            RuleFor(x => x.Granularity).Must(g => Granularities.ContainsKey(g!)).When(x => x.Granularity is not null)
                .WithMessage("granularity is hour, day or period.");
            RuleFor(x => x.GroupBy).Must(key => key!.Length <= ValidationRules.MaxPropertyKeyLength && ValidationRules.HasNoControlCharacters(key))
                .NotEmpty().When(x => x.GroupBy is not null)
                .WithMessage($"groupBy names a property key: 1-{ValidationRules.MaxPropertyKeyLength} characters without control characters.");
            this.RangeRules();
        }
    }
}

/// <summary>One value of the grouping property and what its events counted in a bucket; <c>null</c> for events without the property.</summary>
public sealed record HistoryGroup(string? Value, long Quantity);

public sealed record HistoryBucket(DateTimeOffset Start, DateTimeOffset End, long Quantity, IReadOnlyList<HistoryGroup>? Groups);

public sealed record GetUsageHistoryReply(
    string OrgId, string Feature, string Granularity, string? GroupBy, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<HistoryBucket> Buckets);

public static class GetUsageHistoryHandler
{
    /// <summary>
    /// From the hourly rollup (a row per hour, whatever the number of events), or with a groupBy from the event log of
    /// the range. Either is written in the transaction of the events, so a period's buckets add up to its counter.
    /// </summary>
    public static async Task<Outcome<GetUsageHistoryReply>> Handle(
        GetUsageHistory query, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        var target = await session.LoadUsageTargetAsync(query.OrgId, query.Feature!, cancellation);
        if (target.Organisation is not { } organisation)
            return Refusal.OrganisationNotFound(query.OrgId);
        if (target.Feature is not { } feature)
            return Refusal.UnknownFeature(query.Feature!);

        var granularity = GetUsageHistory.Granularities[query.Granularity ?? "day"];
        var range = UsageBuckets.RangeOf(query, UsageBuckets.CurrentRange(feature, organisation, time.GetUtcNow()));
        if (range.Refusal is { } empty)
            return empty;
        if (UsageBuckets.Cover(granularity, feature, organisation, range.Value.Start, range.Value.End) is not { } buckets)
            return Refusal.Invalid("granularity", $"The range holds more than {UsageBuckets.MaxBuckets:N0} {granularity.ToString().ToLowerInvariant()} buckets: narrow it, or choose a larger granularity.");

        var (from, to) = (buckets[0].Start, buckets[^1].End);
        var hours = query.GroupBy is { } key
            ? await session.HoursByPropertyAsync(organisation.Id, feature.Code, from, to, key, cancellation)
            : await session.HoursAsync(organisation.Id, feature.Code, from, to, cancellation);
        if (query.GroupBy is not null && hours.Count > 0 && hours.All(hour => hour.Value is null))
            return Refusal.Invalid("groupBy", $"No event of {feature.Code} in the range has a property '{query.GroupBy}'.");

        return new GetUsageHistoryReply(
            organisation.Id, feature.Code, query.Granularity ?? "day", query.GroupBy, from, to, Fill(buckets, hours, query.GroupBy is not null));
    }

    /// <summary>Every bucket of the range, empty ones included, each with the hours that fall in it.</summary>
    private static List<HistoryBucket> Fill(IReadOnlyList<Period> buckets, IReadOnlyList<HourQuantity> hours, bool grouped)
    {
        var starts = buckets.Select(bucket => bucket.Start).ToArray();
        var inBucket = hours.ToLookup(hour =>
        {
            var index = Array.BinarySearch(starts, hour.Hour);
            return index >= 0 ? index : ~index - 1;
        });
        return [.. buckets.Select((bucket, index) => new HistoryBucket(
            bucket.Start, bucket.End, inBucket[index].Sum(hour => hour.Quantity),
            grouped
                ? [.. inBucket[index].GroupBy(hour => hour.Value).Select(group => new HistoryGroup(group.Key, group.Sum(hour => hour.Quantity)))
                    .OrderByDescending(group => group.Quantity).ThenBy(group => group.Value, StringComparer.Ordinal)]
                : null))];
    }
}

public static class GetUsageHistoryEndpoint
{
    public static void MapGetUsageHistory(this IEndpointRouteBuilder api) =>
        api.MapGet("/usage/{orgId}/history", (string orgId, HttpContext http, string? feature, DateTimeOffset? from, DateTimeOffset? to, string? granularity, string? groupBy) =>
                http.Send<GetUsageHistory, GetUsageHistoryReply>(new GetUsageHistory(orgId, feature, from, to, granularity, groupBy)))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<GetUsageHistoryReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetUsageHistory")
            .WithSummary("What an organisation used of a feature per hour, day or period of occurredAt (by default the current period), optionally split by a property.");
}
