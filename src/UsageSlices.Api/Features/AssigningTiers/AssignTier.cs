using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.AssigningTiers;

public sealed record AssignTierBody(string? Tier, string? Reason = null);

/// <summary>
/// Move an organisation to another tier at once. Usage so far in the current period is kept: counters belong to
/// the organisation and period, not the tier, so the new limits simply apply to them.
/// </summary>
public sealed record AssignTier(string OrgId, string Tier, string? Reason, string Actor)
{
    public sealed class Validator : AbstractValidator<AssignTier>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Tier).MustBeTierCode();
            RuleFor(x => x.Reason).MaximumLength(500).Must(ValidationRules.HasNoControlCharacters)
                .WithMessage("A reason is at most 500 characters without control characters.").When(x => x.Reason is not null);
        }
    }
}

public sealed record TierAssignment(string OrgId, string Tier, string PreviousTier, bool Changed, string? Reason, DateTimeOffset AssignedAt);

public static class AssignTierHandler
{
    public static async Task<Outcome<TierAssignment>> Handle(
        AssignTier command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForWriting<Organisation>(command.OrgId, cancellation);
        if (stream.Aggregate is not { } organisation)
            return Problems.NotFound($"Organisation '{command.OrgId}' is not registered.");
        if (await session.LoadAsync<SubscriptionTier>(command.Tier, cancellation) is null)
            return Problems.Invalid("tier", $"'{command.Tier}' is not a tier.");

        var now = time.GetUtcNow();
        if (organisation.Tier == command.Tier)
            return new TierAssignment(organisation.Id, command.Tier, organisation.Tier, Changed: false, command.Reason, now);

        stream.AppendOne(new TierAssigned(command.Tier, organisation.Tier, command.Actor, command.Reason, now));
        return new TierAssignment(organisation.Id, command.Tier, organisation.Tier, Changed: true, command.Reason, now);
    }
}

public static class AssignTierEndpoint
{
    public static void MapAssignTier(this IEndpointRouteBuilder api) =>
        api.MapPut("/usage/{orgId}/tier", (string orgId, AssignTierBody body, HttpContext http) =>
                http.Send<AssignTier, TierAssignment>(new AssignTier(orgId, body.Tier ?? "", body.Reason, http.User.Actor())))
            .RequireAuthorization(Scopes.Admin)
            .Produces<TierAssignment>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("AssignTier")
            .WithSummary("Move an organisation to a tier now; the period's usage is kept and the new limits apply at once.");
}
