using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingReservations;

/// <summary>An organisation's reservations that hold a quantity now.</summary>
public sealed record ListReservations(string OrgId) : IForOrganisation
{
    public sealed class Validator : AbstractValidator<ListReservations>
    {
        public Validator() => RuleFor(x => x.OrgId).MustBeOrgId();
    }
}

public sealed record ReservationView(
    Guid ReservationId,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    string? IdempotencyKey,
    IReadOnlyDictionary<string, string>? Properties);

public sealed record ListReservationsReply(IReadOnlyList<ReservationView> Reservations);

public static class ListReservationsHandler
{
    public static async Task<Outcome<ListReservationsReply>> Handle(
        ListReservations query, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(query.OrgId);
        var active = batch.Query<Reservation>()
            .Where(r => r.OrgId == query.OrgId && r.Status == ReservationStatus.Active)
            .OrderBy(r => r.CreatedAt).ToList();
        await batch.Execute(cancellation);
        if (await organisation is null)
            return Refusal.OrganisationNotFound(query.OrgId);

        var now = time.GetUtcNow();
        return new ListReservationsReply([.. (await active).Where(r => r.IsHoldingAt(now)).Select(r => new ReservationView(
            r.Id, r.OrgId, r.Feature, r.Quantity, r.CreatedAt, r.ExpiresAt, r.PeriodStart, r.PeriodEnd, r.IdempotencyKey, r.Properties))]);
    }
}

public static class ListReservationsEndpoint
{
    public static void MapListReservations(this IEndpointRouteBuilder api) =>
        api.MapGet("/usage/{orgId}/reservations", (string orgId, HttpContext http) =>
                http.Send<ListReservations, ListReservationsReply>(new ListReservations(orgId)))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<ListReservationsReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListReservations")
            .WithSummary("An organisation's active reservations: what each holds, and until when.");
}
