using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.RevokingOverrides;

/// <summary>End an active override now: the tier's limit applies again at once. Usage already counted is kept.</summary>
public sealed record RevokeOverride(string OrgId, string Feature, string? Reason, Caller Caller) : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<RevokeOverride>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode();
            RuleFor(x => x.Reason).MustBeReason().When(x => x.Reason is not null);
        }
    }
}

public sealed record RevokeOverrideReply(string OrgId, string Feature);

public sealed record RevokeOverrideState(OrganisationState Organisation, LimitOverride? Existing);

public static class RevokeOverrideHandler
{
    public static async Task<RevokeOverrideState> LoadAsync(RevokeOverride command, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(command.OrgId);
        var stream = batch.Events.FetchStreamState(command.OrgId);
        var existing = batch.Load<LimitOverride>(LimitOverride.KeyFor(command.OrgId, command.Feature));
        await batch.Execute(cancellation);
        return new RevokeOverrideState(new OrganisationState(await organisation, (await stream)?.Version ?? 0), await existing);
    }

    public static (Outcome<RevokeOverrideReply>, AppendEvents, IMartenOp) Handle(RevokeOverride command, RevokeOverrideState state, TimeProvider time)
    {
        var nothing = new AppendEvents(command.OrgId, state.Organisation.Version, []);
        if (state.Organisation.Organisation is null)
            return (Refusal.OrganisationNotFound(command.OrgId), nothing, MartenOps.Nothing());

        var now = time.GetUtcNow();
        if (state.Existing is not { } existing || !existing.IsActiveAt(now))
            return (Refusal.NotFound($"Organisation '{command.OrgId}' has no active override of {command.Feature}."), nothing, MartenOps.Nothing());

        var revoked = new LimitOverrideRevoked(existing.Feature, existing.Limit, command.Reason, command.Caller.Subject, now);
        return (new RevokeOverrideReply(command.OrgId, existing.Feature), nothing with { Events = [revoked] }, MartenOps.Delete(existing));
    }
}

public static class RevokeOverrideEndpoint
{
    public static void MapRevokeOverride(this IEndpointRouteBuilder api) =>
        api.MapDelete("/organisations/{orgId}/overrides/{feature}", (string orgId, string feature, HttpContext http, string? reason = null) =>
                http.Send<RevokeOverride, RevokeOverrideReply>(
                    new RevokeOverride(orgId, feature, reason, http.Caller()), _ => TypedResults.NoContent()))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RevokeOverride")
            .WithSummary("End an organisation's active override of a feature now (reason in the query); its tier's limit applies again.");
}
