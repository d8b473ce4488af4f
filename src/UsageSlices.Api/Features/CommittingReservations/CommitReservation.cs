using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.CommittingReservations;

public sealed record CommitReservationBody(long? Quantity = null) : IHasExample
{
    public static object Example => new { quantity = 3_412 };
}

/// <summary>
/// Record what the reserved work really used — <paramref name="Quantity"/>, by default the quantity held — and end
/// the hold, in one transaction. Less or more than held is recorded as it is, like a record-mode track.
/// </summary>
public sealed record CommitReservation(string OrgId, Guid ReservationId, long? Quantity) : IForOrganisation
{
    public sealed class Validator : AbstractValidator<CommitReservation>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Quantity).InclusiveBetween(1, ValidationRules.MaxQuantity)
                .WithMessage($"The quantity is a whole number from 1 to {ValidationRules.MaxQuantity:N0}; release the reservation when nothing was used.")
                .When(x => x.Quantity is not null);
        }
    }
}

/// <summary>A commit answers like a track, with the reservation it ended.</summary>
public sealed record CommitReservationReply : TrackUsageReply
{
    public CommitReservationReply(Guid reservationId, TrackUsageReply track)
        : base(track) => ReservationId = reservationId;

    public Guid ReservationId { get; init; }
}

public static class CommitReservationHandler
{
    /// <summary>
    /// The usage counts in the period of the commit; the hold ends in the period it was made in. Both streams are
    /// locked (in key order, like every writer's), and the reservation is read again under the locks, so a commit
    /// racing a release or the expiry either wins whole or finds the hold gone.
    /// </summary>
    public static async Task<Outcome<CommitReservationReply>> Handle(
        CommitReservation command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        // The reservation and the catalog in one round trip: the catalog needs only the organisation, which the route names.
        var batch = session.CreateBatchQuery();
        var reservationRead = batch.Load<Reservation>(command.ReservationId);
        var catalogRead = batch.CatalogOf([command.OrgId]);
        await batch.Execute(cancellation);
        var (reservation, catalog) = (await reservationRead, await catalogRead);
        if (reservation is null || reservation.OrgId != command.OrgId)
            return NotFound(command);
        var now = time.GetUtcNow();
        if (Refuse(reservation, now) is { } early)
            return early;

        var organisation = catalog.Organisations.GetValueOrDefault(reservation.OrgId);
        var feature = catalog.Feature(reservation.Feature);
        if (organisation is null || feature is null)
            return NotFound(command);
        var period = Periods.For(feature, now, organisation.BillingAnchorDay);
        var commitStream = UsageCounter.KeyFor(organisation.Id, feature, period);

        var hold = await session.LockAsync(reservation, commitStream, cancellation);
        reservation = hold.Reservation;
        if (Refuse(reservation, now) is { } late)
            return late;

        // The hold ends in this transaction, so the reply's remaining no longer counts it.
        var counter = hold.Streams[commitStream].Aggregate;
        var reservedAfter = (counter?.Reserved ?? 0) - (commitStream == reservation.HoldStream ? reservation.Quantity : 0);
        var call = new TrackUsage(
            organisation.Id, feature.Code, command.Quantity ?? reservation.Quantity, IdempotencyKey: null, IdempotencyKeyHeader: null,
            OccurredAt: null, Enforce: false, reservation.Properties);
        var decision = UsageRules.Decide(
            call, organisation, feature, catalog.LimitOf(organisation, feature, now), period, counter?.Used ?? 0, reservedAfter,
            first: null, now, reservation.Id);
        if (decision.Refusal is { } refusal)
            return refusal;

        var recorded = decision.Value!.Recorded!;
        hold.Streams[reservation.HoldStream].AppendOne(
            new ReservationCommitted(reservation.Id, reservation.Quantity, call.Quantity, recorded.EventId, now));
        hold.Streams[commitStream].AppendMany([recorded, .. UsageAlerts.Of(
            organisation.Id, feature, decision.Value.Reply.Limit, catalog.ThresholdsOf(organisation), counter?.Announced ?? [],
            counter?.Used ?? 0, decision.Value.Reply.Used, period, now)]);
        reservation.Status = ReservationStatus.Committed;
        reservation.EndedAt = now;
        reservation.Commit = decision.Value.Reply;
        session.Store(reservation);
        return new CommitReservationReply(reservation.Id, decision.Value.Reply);
    }

    private static Refusal NotFound(CommitReservation command) =>
        Refusal.NotFound($"Organisation '{command.OrgId}' has no reservation {command.ReservationId}.");

    /// <summary>A second commit is answered with the first one's result; a hold that ended otherwise cannot be committed.</summary>
    private static Outcome<CommitReservationReply>? Refuse(Reservation reservation, DateTimeOffset now) => reservation switch
    {
        { Status: ReservationStatus.Committed, Commit: { } first } => new CommitReservationReply(reservation.Id, first with { Duplicate = true }),
        { Status: ReservationStatus.Released } => Refusal.Conflict($"Reservation {reservation.Id} was released at {reservation.EndedAt:O}; nothing can be committed to it."),
        _ when !reservation.IsHoldingAt(now) => Refusal.Conflict($"Reservation {reservation.Id} expired at {reservation.ExpiresAt:O}; nothing can be committed to it."),
        _ => null,
    };
}

public static class CommitReservationEndpoint
{
    public static void MapCommitReservation(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/reservations/{reservationId:guid}/commit", (string orgId, Guid reservationId, CommitReservationBody? body, HttpContext http) =>
                http.Send<CommitReservation, CommitReservationReply>(new CommitReservation(orgId, reservationId, body?.Quantity)))
            .ActsForOrganisationInRoute(Scopes.Write)
            .Produces<CommitReservationReply>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CommitReservation")
            .WithSummary("Record what reserved work used (by default the quantity held) and end its hold; a second commit is a duplicate.");
}
