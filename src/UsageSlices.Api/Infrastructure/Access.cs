using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using UsageSlices.Domain;

namespace UsageSlices.Infrastructure;

/// <summary>Which organisation a route acts on; every authorised route declares one, or start-up fails.</summary>
public abstract record ActsFor
{
    private ActsFor()
    {
    }

    /// <summary>The organisation named by a route parameter (<c>/usage/{orgId}/…</c>).</summary>
    public sealed record OrganisationInRoute(string Parameter) : ActsFor;

    /// <summary>The organisations named inside the body (a batch's events), each checked by the handler with the same rule.</summary>
    public sealed record OrganisationsInBody : ActsFor;

    /// <summary>No organisation's data: the catalog, or an admin's view across organisations.</summary>
    public sealed record NoOrganisation : ActsFor;
}

public static class Access
{
    private const string OrgIdParameter = "orgId";

    /// <summary>Requires <paramref name="scope"/> and a token of the organisation in the route (or an admin's).</summary>
    public static RouteHandlerBuilder ActsForOrganisationInRoute(this RouteHandlerBuilder route, string scope, string parameter = OrgIdParameter) =>
        route.RequireAuthorization(scope).WithMetadata(new ActsFor.OrganisationInRoute(parameter));

    public static RouteHandlerBuilder ActsForOrganisationsInBody(this RouteHandlerBuilder route, string scope) =>
        route.RequireAuthorization(scope).WithMetadata(new ActsFor.OrganisationsInBody());

    public static RouteHandlerBuilder ActsForNoOrganisation(this RouteHandlerBuilder route, string scope) =>
        route.RequireAuthorization(scope).WithMetadata(new ActsFor.NoOrganisation());

    /// <summary>
    /// The caller, resolved from the token once per request. Kept in <see cref="HttpContext.Items"/> rather than the
    /// feature collection, whose revision a new feature type would bump, dropping every cached feature of the request.
    /// </summary>
    public static Caller Caller(this HttpContext http)
    {
        if (http.Items.TryGetValue(typeof(Caller), out var known))
            return (Caller)known!;
        var caller = CallerOf(http.User);
        http.Items[typeof(Caller)] = caller;
        return caller;
    }

    public static Caller CallerOf(ClaimsPrincipal user) => new(
        user.FindFirstValue(Claims.Subject) ?? "unknown",
        user.FindFirstValue(Claims.OrgId),
        user.FindAll(Claims.Scope).SelectMany(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet());

    /// <summary>The organisation a request acts on according to its route's declaration, if the route names one.</summary>
    public static string? RouteOrganisation(this HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<ActsFor>() is ActsFor.OrganisationInRoute route
            ? http.GetRouteValue(route.Parameter) as string
            : null;

    /// <summary>
    /// Fails start-up when an authorised route does not say which organisation it acts on, or names a route
    /// parameter it does not have: without the declaration, a read or write token of any organisation would pass.
    /// </summary>
    public static void RequireDeclaredOrganisations(IEnumerable<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAuthorizeData>() is null)
                continue;
            var route = endpoint.RoutePattern.RawText;
            switch (endpoint.Metadata.GetMetadata<ActsFor>())
            {
                case null:
                    throw new InvalidOperationException(
                        $"The route {route} requires a token but does not declare which organisation it acts on (ActsForOrganisationInRoute, ActsForOrganisationsInBody or ActsForNoOrganisation).");
                case ActsFor.OrganisationInRoute { Parameter: var parameter } when endpoint.RoutePattern.GetParameter(parameter) is null:
                    throw new InvalidOperationException($"The route {route} acts on the organisation in '{{{parameter}}}', which it has no parameter for.");
            }
        }
    }
}

/// <summary>A route needs this scope (admin holds every scope) and, for a route that names an organisation, a caller who may act for it.</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

/// <remarks>Not named "…Handler": Wolverine would take its public HandleAsync for a message handler.</remarks>
public sealed class ScopeAuthorizer : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.Resource is not HttpContext http)
        {
            context.Fail(new AuthorizationFailureReason(this, "Only HTTP requests are authorised here."));
            return Task.CompletedTask;
        }

        var caller = http.Caller();
        if (!caller.HasScope(requirement.Scope))
            context.Fail(new AuthorizationFailureReason(this, $"The token lacks the scope {requirement.Scope}."));
        else if (http.RouteOrganisation() is { } orgId && !caller.MayActFor(orgId))
            context.Fail(new AuthorizationFailureReason(this, "The token does not belong to this organisation."));
        else
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
