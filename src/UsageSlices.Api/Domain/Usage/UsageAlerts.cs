namespace UsageSlices.Domain.Usage;

/// <summary>
/// On the usage stream, in the transaction of the change that caused it: that change took <paramref name="Used"/>
/// from below <paramref name="Threshold"/>% of the limit to at or above it. Announced once per (organisation,
/// feature, period, threshold).
/// </summary>
public sealed record UsageThresholdCrossed(
    string OrgId,
    string Feature,
    int Threshold,
    long Used,
    long Limit,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    DateTimeOffset CrossedAt);

/// <summary>On an allocation's stream: usage fell back below a threshold it had crossed, which may now be crossed, and announced, again.</summary>
public sealed record UsageThresholdRearmed(string OrgId, string Feature, int Threshold, long Used, long Limit, DateTimeOffset RearmedAt);

/// <summary>DESIGN.md Part 2's threshold alerts, as a pure function of one change of a counter.</summary>
public static class UsageAlerts
{
    public static readonly IReadOnlyList<int> DefaultThresholds = [80, 100];

    public const int MaxThreshold = 1_000;
    public const int MaxThresholds = 10;

    /// <summary>Whether <paramref name="used"/> is at or above <paramref name="threshold"/>% of <paramref name="limit"/>, in exact arithmetic.</summary>
    public static bool Reaches(long used, long limit, int threshold) => (Int128)used * 100 >= (Int128)limit * threshold;

    /// <summary>
    /// The events of one change of a counter from <paramref name="before"/> to <paramref name="after"/>: a crossing for
    /// each threshold the change takes usage from below to at or above, unless it was announced already in this
    /// period (<paramref name="announced"/>); for an allocation, a re-arming of each announced threshold the change
    /// takes usage back below. Nothing for a limit that is unlimited or 0 (there is no share of it to reach).
    /// </summary>
    public static IReadOnlyList<object> Of(
        string orgId, UsageFeature feature, long? limit, IReadOnlyList<int> thresholds, IReadOnlyCollection<int> announced,
        long before, long after, Period? period, DateTimeOffset now)
    {
        if (limit is not ({ } max and > 0))
            return [];

        var events = new List<object>();
        foreach (var threshold in thresholds.Distinct().Order())
        {
            if (!Reaches(before, max, threshold) && Reaches(after, max, threshold) && !announced.Contains(threshold))
                events.Add(new UsageThresholdCrossed(orgId, feature.Code, threshold, after, max, period?.Start, period?.End, now));
            else if (feature.Kind == FeatureKind.Allocation && announced.Contains(threshold) && !Reaches(after, max, threshold))
                events.Add(new UsageThresholdRearmed(orgId, feature.Code, threshold, after, max, now));
        }

        return events;
    }

    /// <summary>The thresholds announced so far, once <paramref name="events"/> are applied (what a counter's projection keeps).</summary>
    public static IReadOnlyCollection<int> After(IReadOnlyCollection<int> announced, IReadOnlyList<object> events)
    {
        if (events.Count == 0)
            return announced;
        var now = announced.ToHashSet();
        foreach (var change in events)
        {
            _ = change switch
            {
                UsageThresholdCrossed crossed => now.Add(crossed.Threshold),
                UsageThresholdRearmed rearmed => now.Remove(rearmed.Threshold),
                _ => false,
            };
        }

        return now;
    }
}
