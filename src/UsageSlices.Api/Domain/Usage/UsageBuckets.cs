namespace UsageSlices.Domain.Usage;

/// <summary>The <c>type</c> of an entry of the event log.</summary>
public static class UsageEventTypes
{
    public const string Usage = "usage";
    public const string Correction = "correction";
}

/// <summary>The size of a history bucket: buckets are by <c>occurredAt</c>, in UTC.</summary>
public enum Granularity
{
    Hour,
    Day,

    /// <summary>The feature's own period (its billing month, or day); for an allocation, the organisation's billing month.</summary>
    Period,
}

/// <summary>DESIGN.md Part 2's history buckets and ranges, as pure functions.</summary>
public static class UsageBuckets
{
    public const int MaxBuckets = 1_000;

    /// <summary>The earliest and latest instants a range may name: wide enough for any usage, narrow enough that no bucket overflows.</summary>
    public static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The range a history or an event list covers when the caller names none: the feature's current period, or for an
    /// allocation (which never resets) or no feature, the organisation's current billing month.
    /// </summary>
    public static Period CurrentRange(UsageFeature? feature, Organisation organisation, DateTimeOffset now) =>
        (feature is null ? null : Periods.For(feature, now, organisation.BillingAnchorDay))
        ?? Periods.Month(now, organisation.BillingAnchorDay);

    /// <summary>The range a request names, each end it leaves out taken from <paramref name="current"/>, in UTC; refused when it is empty.</summary>
    public static Outcome<Period> RangeOf(ITimeRange request, Period current)
    {
        var (from, to) = ((request.From ?? current.Start).ToUniversalTime(), (request.To ?? current.End).ToUniversalTime());
        return from < to
            ? new Period(from, to)
            : Refusal.Invalid("to", $"to must be after from: with the defaults, the range is [{from:O}, {to:O}).");
    }

    /// <summary>The bucket of <paramref name="granularity"/> that holds <paramref name="instant"/>.</summary>
    public static Period BucketOf(Granularity granularity, UsageFeature feature, Organisation organisation, DateTimeOffset instant) =>
        granularity switch
        {
            Granularity.Hour => new Period(HourOf(instant), HourOf(instant).AddHours(1)),
            Granularity.Day => Periods.Day(instant),
            _ => Periods.For(feature, instant, organisation.BillingAnchorDay) ?? Periods.Month(instant, organisation.BillingAnchorDay),
        };

    /// <summary>The start of the UTC hour that holds <paramref name="instant"/>, as the hourly rollup keys it.</summary>
    private static DateTimeOffset HourOf(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>
    /// The whole buckets that cover [<paramref name="from"/>, <paramref name="to"/>), oldest first, or <c>null</c> when
    /// there would be more than <see cref="MaxBuckets"/>: a bucket is never cut, so the range widens to whole buckets.
    /// </summary>
    public static IReadOnlyList<Period>? Cover(
        Granularity granularity, UsageFeature feature, Organisation organisation, DateTimeOffset from, DateTimeOffset to)
    {
        var buckets = new List<Period>();
        for (var start = from; start < to;)
        {
            if (buckets.Count == MaxBuckets)
                return null;
            var bucket = BucketOf(granularity, feature, organisation, start);
            buckets.Add(bucket);
            start = bucket.End;
        }

        return buckets;
    }
}
