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
    public static UsageCounter Create(IEvent<UsageRecorded> recorded) => new()
    {
        Id = recorded.StreamKey!,
        OrgId = recorded.Data.OrgId,
        Feature = recorded.Data.Feature,
        Used = recorded.Data.Quantity,
        PeriodStart = recorded.Data.PeriodStart,
        PeriodEnd = recorded.Data.PeriodEnd,
    };

    public static UsageCounter Create(IEvent<UsageReserved> reserved) => new()
    {
        Id = reserved.StreamKey!,
        OrgId = reserved.Data.OrgId,
        Feature = reserved.Data.Feature,
        Reserved = reserved.Data.Quantity,
        PeriodStart = reserved.Data.PeriodStart,
        PeriodEnd = reserved.Data.PeriodEnd,
    };

    /// <remarks>Checked: the ledger refuses a call that would overflow, so an overflow here is a bug that must fail the transaction.</remarks>
    public static void Apply(UsageRecorded recorded, UsageCounter counter) => counter.Used = checked(counter.Used + recorded.Quantity);

    public static void Apply(UsageReserved reserved, UsageCounter counter) => counter.Reserved = checked(counter.Reserved + reserved.Quantity);

    public static void Apply(ReservationCommitted committed, UsageCounter counter) => counter.Reserved -= committed.Held;

    public static void Apply(ReservationReleased released, UsageCounter counter) => counter.Reserved -= released.Quantity;

    public static void Apply(UsageThresholdCrossed crossed, UsageCounter counter) => counter.Announced.Add(crossed.Threshold);

    public static void Apply(UsageThresholdRearmed rearmed, UsageCounter counter) => counter.Announced.Remove(rearmed.Threshold);
}
