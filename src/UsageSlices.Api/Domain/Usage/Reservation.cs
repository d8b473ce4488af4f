using JasperFx.Events;
using Marten;

namespace UsageSlices.Domain.Usage;

/// <summary>On the usage stream of the period it was made in: <paramref name="Quantity"/> is held until committed, released or expired.</summary>
public sealed record UsageReserved(
    Guid ReservationId,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset ExpiresAt,
    DateTimeOffset ReservedAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd);

/// <summary>On the hold's stream: the hold is over because its usage was recorded (as <paramref name="EventId"/>, in the commit's period).</summary>
public sealed record ReservationCommitted(Guid ReservationId, long Held, long Quantity, Guid EventId, DateTimeOffset CommittedAt);

/// <summary>On the hold's stream: the hold is over with nothing recorded.</summary>
public sealed record ReservationReleased(Guid ReservationId, long Quantity, ReservationStatus Status, string Actor, DateTimeOffset ReleasedAt);

public enum ReservationStatus
{
    /// <summary>Holding its quantity.</summary>
    Active,
    Committed,

    /// <summary>Released by its owner.</summary>
    Released,

    /// <summary>Released by the service at <c>expiresAt</c>.</summary>
    Expired,
}

/// <summary>A hold on some of a counted feature for work whose cost is known afterwards (an LLM call), keyed by its id.</summary>
public sealed class Reservation
{
    public Guid Id { get; set; }
    public required string OrgId { get; set; }
    public required string Feature { get; set; }
    public long Quantity { get; set; }

    /// <summary>The usage stream (and counter) of the period the hold was made in, which it counts against until it ends.</summary>
    public required string HoldStream { get; set; }
    public DateTimeOffset? PeriodStart { get; set; }
    public DateTimeOffset? PeriodEnd { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string? IdempotencyKey { get; set; }
    public IReadOnlyDictionary<string, string>? Properties { get; set; }
    public ReservationStatus Status { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>The answer to the reserve call, returned again to a retry with the same idempotency key.</summary>
    public required ReserveUsageReply Reply { get; set; }

    /// <summary>The answer to the commit, returned again (as a duplicate) to a second commit.</summary>
    public TrackUsageReply? Commit { get; set; }

    /// <summary>Whether the hold can still be committed at <paramref name="now"/>: its expiry is decided by the clock, not by when its release runs.</summary>
    public bool IsHoldingAt(DateTimeOffset now) => Status == ReservationStatus.Active && now < ExpiresAt;
}

/// <summary>A reserve call's idempotency key, keyed <c>{orgId}:{key}</c> (apart from tracks' keys): a retry returns the same reservation.</summary>
public sealed record ReservationKey(string Id, Guid ReservationId, string Feature, long Quantity)
{
    public static string KeyFor(string orgId, string key) => $"{orgId}:{key}";
}

/// <summary>What a reserve call answers: the hold, and where the organisation stands with it.</summary>
public sealed record ReserveUsageReply(
    Guid ReservationId,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset ExpiresAt,
    long Used,
    long Reserved,
    long? Limit,
    long? Remaining,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    bool Duplicate);

/// <summary>Due at a reservation's <c>expiresAt</c>: release its hold if it is still held.</summary>
public sealed record ReservationExpiryDue(string OrgId, Guid ReservationId) : IForOrganisation;

/// <summary>A reservation read under the lock of its hold's stream (and of any other stream its caller writes to).</summary>
public sealed record LockedHold(Reservation Reservation, IReadOnlyDictionary<string, IEventStream<UsageCounter>> Streams);

public static class Holds
{
    /// <summary>
    /// Locks the usage stream that <paramref name="reservation"/> holds on, and <paramref name="alsoLock"/> (the stream a
    /// commit records in), then reads the reservation again: whoever waited for the lock sees what its predecessor —
    /// a commit, a release, the expiry — decided, so a hold ends exactly once.
    /// </summary>
    public static async Task<LockedHold> LockAsync(
        this IDocumentSession session, Reservation reservation, string? alsoLock, CancellationToken cancellation)
    {
        await session.BeginTransactionAsync(cancellation);
        var batch = session.CreateBatchQuery();
        var locks = UsageLedger.LockStreams(batch, alsoLock is null ? [reservation.HoldStream] : [reservation.HoldStream, alsoLock]);
        var current = batch.Load<Reservation>(reservation.Id);
        await batch.Execute(cancellation);
        return new LockedHold((await current) ?? reservation, await UsageLedger.LockedAsync(locks));
    }

    /// <summary>Ends a hold with nothing recorded: by its owner (<see cref="ReservationStatus.Released"/>) or by the service at its expiry.</summary>
    public static void Release(this IDocumentSession session, LockedHold hold, ReservationStatus status, string actor, DateTimeOffset now)
    {
        var reservation = hold.Reservation;
        hold.Streams[reservation.HoldStream].AppendOne(new ReservationReleased(reservation.Id, reservation.Quantity, status, actor, now));
        reservation.Status = status;
        reservation.EndedAt = now;
        session.Store(reservation);
    }
}
