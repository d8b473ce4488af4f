using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.VoidingUsageEvents;

public sealed record VoidUsageEventBody(string? Reason = null) : IHasExample
{
    public static object Example => new { reason = "Ticket 4712: test traffic from the customer's staging environment" };
}

/// <summary>
/// Cancel usage event <paramref name="EventId"/> of organisation <paramref name="OrgId"/>: a correction of minus its
/// quantity, in its period and at its occurredAt, so its bucket of history moves back too. The event itself stays.
/// </summary>
public sealed record VoidUsageEvent(string OrgId, Guid EventId, string? Reason, Caller Caller) : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<VoidUsageEvent>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Reason).Cascade(CascadeMode.Stop).NotEmpty().WithMessage("reason is required: why the event is voided.").MustBeReason();
        }
    }
}

public static class VoidUsageEventHandler
{
    /// <summary>
    /// The event is read again under the lock of its stream, with whether it was voided: two voids of one event
    /// serialise on the lock, and the second finds the first (the log's unique index on <c>voids</c> backs it up).
    /// </summary>
    public static async Task<Outcome<CorrectUsageReply>> Handle(
        VoidUsageEvent command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var found = await session.FindEventAsync(command.EventId, cancellation);
        if (found is null || found.Event.OrgId != command.OrgId)
            return Refusal.NotFound($"Organisation '{command.OrgId}' has no usage event {command.EventId}.");
        if (found.Event.Type != UsageEventTypes.Usage)
            return Refusal.Conflict($"{command.EventId} is a correction, which cannot be voided: record another correction instead.");

        var target = await session.LoadUsageTargetAsync(command.OrgId, found.Event.Feature, cancellation);
        if (!UsageCorrections.CanCorrect(command.OrgId, found.Event.Feature, target, out var organisation, out var feature, out var refusal))
            return refusal;

        await session.BeginTransactionAsync(cancellation);
        var locks = session.CreateBatchQuery();
        var locked = UsageLedger.LockStreams(locks, [found.Stream]);
        await locks.Execute(cancellation);
        var counter = (await UsageLedger.LockedAsync(locked))[found.Stream];
        var usage = (await session.FindEventAsync(command.EventId, cancellation))!.Event;
        if (usage.VoidedBy is { } voidedBy)
            return Refusal.Conflict($"Usage event {command.EventId} was voided already, by correction {voidedBy}.");

        var now = time.GetUtcNow();
        var period = usage.PeriodStart is { } start ? new Period(start, usage.PeriodEnd!.Value) : (Period?)null;
        var decision = UsageCorrections.Decide(
            organisation, feature, target.Catalog.LimitOf(organisation, feature, now), target.Catalog.ThresholdsOf(organisation),
            counter.Aggregate, period, -usage.Quantity, usage.OccurredAt, key: null, command.Reason!, command.Caller.Subject, usage, now);
        if (decision.Refusal is { } conflict)
            return conflict;

        counter.AppendMany(decision.Value!.Events);
        return decision.Value.Reply;
    }
}

public static class VoidUsageEventEndpoint
{
    public static void MapVoidUsageEvent(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/events/{eventId:guid}/void", (string orgId, Guid eventId, VoidUsageEventBody body, HttpContext http) =>
                http.Send<VoidUsageEvent, CorrectUsageReply>(new VoidUsageEvent(orgId, eventId, body.Reason, http.Caller())))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces<CorrectUsageReply>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("VoidUsageEvent")
            .WithSummary("Cancel a usage event with a correction of minus its quantity in its period (admin); voiding twice is 409.");
}
