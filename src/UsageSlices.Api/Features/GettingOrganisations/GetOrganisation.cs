using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.GettingOrganisations;

public sealed record GetOrganisation(string OrgId) : IForOrganisation
{
    public sealed class Validator : AbstractValidator<GetOrganisation>
    {
        public Validator() => RuleFor(x => x.OrgId).MustBeOrgId();
    }
}

public static class GetOrganisationHandler
{
    public static async Task<Outcome<Organisation>> Handle(GetOrganisation query, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<Organisation>(query.OrgId, cancellation) is { } organisation
            ? organisation
            : Refusal.OrganisationNotFound(query.OrgId);
}

public static class GetOrganisationEndpoint
{
    public static void MapGetOrganisation(this IEndpointRouteBuilder api) =>
        api.MapGet("/organisations/{orgId}", (string orgId, HttpContext http) =>
                http.Send<GetOrganisation, Organisation>(new GetOrganisation(orgId)))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<Organisation>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetOrganisation")
            .WithSummary("An organisation's id, slug, name, tier and billing anchor day.");
}
