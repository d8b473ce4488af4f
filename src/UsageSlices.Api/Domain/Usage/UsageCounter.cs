using JasperFx.Events;
using Marten.Events.Aggregation;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// One usage event: append-only, never updated or deleted. It carries its period so that the counter it
/// lands in is fixed when it is recorded.
/// </summary>
public sealed record UsageRecorded(
    Guid EventId,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    string? IdempotencyKey,
    IReadOnlyDictionary<string, string>? Properties,
    Guid? ReservationId = null);

/// <summary>
/// What an organisation has used of one feature in one period (or ever, for an allocation), kept current in the
/// same transaction as each append, so a check is a primary-key read whatever the number of events.
/// </summary>
public sealed class UsageCounter
{
    public required string Id { get; set; }
    public required string OrgId { get; set; }
    public required string Feature { get; set; }
    public long Used { get; set; }

    /// <summary>What active reservations made in this period hold: it counts against the limit as usage does.</summary>
    public long Reserved { get; set; }

    /// <summary>The alert thresholds announced in this period (for an allocation: crossed and not fallen back below since).</summary>
    public List<int> Announced { get; set; } = [];
    public DateTimeOffset? PeriodStart { get; set; }
    public DateTimeOffset? PeriodEnd { get; set; }

    /// <summary>
    /// Usage streams are short: one per (organisation, feature, period), or per (organisation, feature) for a gauge,
    /// so a stream stays bounded and writers contend only on the same feature. Organisation ids cannot hold ':',
    /// so these keys never collide with an organisation's stream.
    /// </summary>
    public static string KeyFor(string orgId, UsageFeature feature, Period? period) =>
        period is { } p
            ? $"{orgId}:{feature.Code}:{feature.Period?.ToString().ToLowerInvariant()}:{p.Start.UtcDateTime:yyyy-MM-dd}"
            : $"{orgId}:{feature.Code}";
}

public partial class UsageCounterProjection : SingleStreamProjection<UsageCounter, string>
{
    public static UsageCounter Create(IEvent<UsageRecorded> recorded) =>
        Start(recorded.StreamKey!, recorded.Data.OrgId, recorded.Data.Feature, recorded.Data.PeriodStart, recorded.Data.PeriodEnd, used: recorded.Data.Quantity);

    /// <summary>A correction of a period nothing was counted in yet (a positive one: the ledger refuses going below 0).</summary>
    public static UsageCounter Create(IEvent<UsageCorrected> corrected) =>
        Start(corrected.StreamKey!, corrected.Data.OrgId, corrected.Data.Feature, corrected.Data.PeriodStart, corrected.Data.PeriodEnd, used: corrected.Data.Quantity);

    public static UsageCounter Create(IEvent<UsageReserved> reserved) =>
        Start(reserved.StreamKey!, reserved.Data.OrgId, reserved.Data.Feature, reserved.Data.PeriodStart, reserved.Data.PeriodEnd, reserved: reserved.Data.Quantity);

    private static UsageCounter Start(
        string stream, string orgId, string feature, DateTimeOffset? periodStart, DateTimeOffset? periodEnd, long used = 0, long reserved = 0) => new()
        {
            Id = stream,
            OrgId = orgId,
            Feature = feature,
            Used = used,
            Reserved = reserved,
            PeriodStart = periodStart,
            PeriodEnd = periodEnd,
        };

    /// <remarks>Checked: the ledger refuses a call that would overflow, so an overflow here is a bug that must fail the transaction.</remarks>
    public static void Apply(UsageRecorded recorded, UsageCounter counter) => counter.Used = checked(counter.Used + recorded.Quantity);

    public static void Apply(UsageCorrected corrected, UsageCounter counter) => counter.Used = checked(counter.Used + corrected.Quantity);

    public static void Apply(UsageReserved reserved, UsageCounter counter) => counter.Reserved = checked(counter.Reserved + reserved.Quantity);

    public static void Apply(ReservationCommitted committed, UsageCounter counter) => counter.Reserved -= committed.Held;

    public static void Apply(ReservationReleased released, UsageCounter counter) => counter.Reserved -= released.Quantity;

    public static void Apply(UsageThresholdCrossed crossed, UsageCounter counter) => counter.Announced.Add(crossed.Threshold);

    public static void Apply(UsageThresholdRearmed rearmed, UsageCounter counter) => counter.Announced.Remove(rearmed.Threshold);
}
