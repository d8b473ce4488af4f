using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.ReleasingReservations;

/// <summary>Free a hold with nothing recorded (the work failed, or cost nothing). Releasing an ended hold again changes nothing.</summary>
public sealed record ReleaseReservation(string OrgId, Guid ReservationId, Caller Caller) : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<ReleaseReservation>
    {
        public Validator() => RuleFor(x => x.OrgId).MustBeOrgId();
    }
}

public sealed record ReleaseReservationReply(Guid ReservationId, ReservationStatus Status);

public static class ReleaseReservationHandler
{
    public static async Task<Outcome<ReleaseReservationReply>> Handle(
        ReleaseReservation command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var reservation = await session.LoadAsync<Reservation>(command.ReservationId, cancellation);
        if (reservation is null || reservation.OrgId != command.OrgId)
            return Refusal.NotFound($"Organisation '{command.OrgId}' has no reservation {command.ReservationId}.");
        if (reservation.Status != ReservationStatus.Active)
            return Ended(reservation);

        var hold = await session.LockAsync(reservation, alsoLock: null, cancellation);
        if (hold.Reservation.Status != ReservationStatus.Active)
            return Ended(hold.Reservation);

        // Past its expiry but before its release ran, the hold ends as expired: that is what it did.
        var now = time.GetUtcNow();
        var status = now < hold.Reservation.ExpiresAt ? ReservationStatus.Released : ReservationStatus.Expired;
        session.Release(hold, status, command.Caller.Subject, now);
        return new ReleaseReservationReply(hold.Reservation.Id, status);
    }

    /// <summary>A committed hold became usage, which only a correction can change; a released or expired one holds nothing already.</summary>
    private static Outcome<ReleaseReservationReply> Ended(Reservation reservation) =>
        reservation.Status == ReservationStatus.Committed
            ? Refusal.Conflict($"Reservation {reservation.Id} was committed at {reservation.EndedAt:O}: its usage is recorded and cannot be released.")
            : new ReleaseReservationReply(reservation.Id, reservation.Status);
}

/// <summary>
/// Releases a hold at its <c>expiresAt</c>. The message is scheduled, durably, in the transaction that made the
/// hold, so it survives a restart; if several instances run, one of them takes it, and should it run twice (or
/// after a commit or release), the hold, read again under its stream's lock, has ended already and nothing changes.
/// </summary>
public static class ReservationExpiryDueHandler
{
    public const string LocalQueue = "reservation-expiries";

    public static void RouteReservationExpiries(this WolverineOptions options) =>
        options.PublishMessage<ReservationExpiryDue>().ToLocalQueue(LocalQueue).UseDurableInbox();

    /// <summary>The <c>reservation.expired</c> webhook event goes out through the outbox of the same transaction.</summary>
    public static async Task<OutgoingMessages> Handle(ReservationExpiryDue message, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        if (await session.LoadAsync<Reservation>(message.ReservationId, cancellation) is not { Status: ReservationStatus.Active } reservation)
            return [];
        var hold = await session.LockAsync(reservation, alsoLock: null, cancellation);
        if (hold.Reservation.Status != ReservationStatus.Active)
            return [];
        var now = time.GetUtcNow();
        session.Release(hold, ReservationStatus.Expired, Caller.ServiceSubject, now);
        return [WebhookEventRaised.ReservationExpired(hold.Reservation, now)];
    }
}

public static class ReleaseReservationEndpoint
{
    public static void MapReleaseReservation(this IEndpointRouteBuilder api) =>
        api.MapDelete("/usage/{orgId}/reservations/{reservationId:guid}", (string orgId, Guid reservationId, HttpContext http) =>
                http.Send<ReleaseReservation, ReleaseReservationReply>(
                    new ReleaseReservation(orgId, reservationId, http.Caller()), _ => TypedResults.NoContent()))
            .ActsForOrganisationInRoute(Scopes.Write)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("ReleaseReservation")
            .WithSummary("Free a reservation's hold with nothing recorded (204; again: 204); a committed one is 409.");
}
