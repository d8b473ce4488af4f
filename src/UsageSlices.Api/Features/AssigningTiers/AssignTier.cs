using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.AssigningTiers;

public sealed record AssignTierBody(string? Tier, string? Reason = null) : IHasExample
{
    public static object Example => new { tier = "pro", reason = "Upgraded in billing" };
}

/// <summary>
/// Move an organisation to another tier at once. Usage so far in the current period is kept: counters belong to
/// the organisation and period, not the tier, so the new limits simply apply to them.
/// </summary>
public sealed record AssignTier(string OrgId, string Tier, string? Reason, Caller Caller) : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<AssignTier>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Tier).MustBeTierCode();
            RuleFor(x => x.Reason).MustBeReason().When(x => x.Reason is not null);
        }
    }
}

public sealed record AssignTierReply(string OrgId, string Tier, string PreviousTier, bool Changed, string? Reason, DateTimeOffset AssignedAt);

/// <summary>What assigning a tier is decided on: the organisation as its stream stands, and the tier asked for.</summary>
public sealed record AssignTierState(OrganisationState Organisation, SubscriptionTier? Tier);

public static class AssignTierHandler
{
    /// <summary>Wolverine runs this before <see cref="Handle"/> and passes it what was read (a compound handler).</summary>
    public static async Task<AssignTierState> LoadAsync(AssignTier command, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(command.OrgId);
        var stream = batch.Events.FetchStreamState(command.OrgId);
        var tier = batch.Load<SubscriptionTier>(command.Tier);
        await batch.Execute(cancellation);
        return new AssignTierState(new OrganisationState(await organisation, (await stream)?.Version ?? 0), await tier);
    }

    public static (Outcome<AssignTierReply>, AppendEvents) Handle(AssignTier command, AssignTierState state, TimeProvider time)
    {
        var nothing = new AppendEvents(command.OrgId, state.Organisation.Version, []);
        if (state.Organisation.Organisation is not { } organisation)
            return (Refusal.OrganisationNotFound(command.OrgId), nothing);

        var now = time.GetUtcNow();
        if (TierAssignments.Assign(organisation, command.Tier, state.Tier, command.Caller.Subject, command.Reason, now, out var assigned) is { } refusal)
            return (refusal, nothing);

        var reply = new AssignTierReply(organisation.Id, command.Tier, organisation.Tier, Changed: assigned is not null, command.Reason, now);
        return (reply, nothing with { Events = assigned is null ? [] : [assigned] });
    }
}

public static class AssignTierEndpoint
{
    public static void MapAssignTier(this IEndpointRouteBuilder api) =>
        api.MapPut("/usage/{orgId}/tier", (string orgId, AssignTierBody body, HttpContext http) =>
                http.Send<AssignTier, AssignTierReply>(new AssignTier(orgId, body.Tier ?? "", body.Reason, http.Caller())))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces<AssignTierReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("AssignTier")
            .WithSummary("Move an organisation to a tier now; the period's usage is kept and the new limits apply at once.");
}
