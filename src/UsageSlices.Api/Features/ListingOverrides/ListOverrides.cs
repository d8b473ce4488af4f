using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingOverrides;

/// <summary>An organisation's overrides: the active ones, or with <paramref name="IncludeExpired"/> those that expired too.</summary>
public sealed record ListOverrides(string OrgId, bool IncludeExpired) : IForOrganisation
{
    public sealed class Validator : AbstractValidator<ListOverrides>
    {
        public Validator() => RuleFor(x => x.OrgId).MustBeOrgId();
    }
}

public sealed record ListOverridesReply(IReadOnlyList<LimitOverrideView> Overrides);

public static class ListOverridesHandler
{
    public static async Task<Outcome<ListOverridesReply>> Handle(
        ListOverrides query, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(query.OrgId);
        var overrides = batch.Query<LimitOverride>().Where(o => o.OrgId == query.OrgId).OrderBy(o => o.Feature).ToList();
        await batch.Execute(cancellation);
        if (await organisation is null)
            return Refusal.OrganisationNotFound(query.OrgId);

        var now = time.GetUtcNow();
        return new ListOverridesReply([.. (await overrides)
            .Where(o => query.IncludeExpired || o.IsActiveAt(now))
            .Select(o => LimitOverrideView.Of(o, now))]);
    }
}

public static class ListOverridesEndpoint
{
    public static void MapListOverrides(this IEndpointRouteBuilder api) =>
        api.MapGet("/organisations/{orgId}/overrides", (string orgId, HttpContext http, bool includeExpired = false) =>
                http.Send<ListOverrides, ListOverridesReply>(new ListOverrides(orgId, includeExpired)))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<ListOverridesReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListOverrides")
            .WithSummary("An organisation's active overrides (includeExpired=true: with those that expired).");
}
