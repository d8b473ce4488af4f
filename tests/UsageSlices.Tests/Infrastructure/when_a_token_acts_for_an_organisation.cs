using Alba;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Infrastructure;

/// <summary>Who may act for whom is one rule (<see cref="Caller.MayActFor"/>), declared by every route and enforced on each.</summary>
public sealed class when_a_token_acts_for_an_organisation(AppFixture app) : ApiTest(app)
{
    /// <summary>The routes that serve no organisation's data to a read token: the catalog.</summary>
    private static readonly string[] CatalogRoutes = ["GET /api/v1/features", "GET /api/v1/tiers", "GET /api/v1/tiers/{code}"];

    [Fact]
    public async Task every_route_refuses_a_token_of_another_organisation_and_changes_nothing()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        var rival = TokenFor("rival", Scopes.Read, Scopes.Write);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var routes = Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        routes.Count.ShouldBeGreaterThanOrEqualTo(12);

        var catalog = new List<string>();
        foreach (var route in routes)
        {
            var method = route.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Single();
            var name = $"{method} {route.RoutePattern.RawText}";
            var url = UrlOf(route.RoutePattern);
            switch (route.Metadata.GetMetadata<ActsFor>())
            {
                case ActsFor.OrganisationInRoute:
                    await ProblemOf(await SendAsync(method, url, "{}", rival, 403), 403);
                    break;
                case ActsFor.OrganisationsInBody:
                    var batch = await BodyOf(await SendAsync(method, url, """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","idempotencyKey":"k"}]}""", rival, 200));
                    ((int)batch["results"]![0]!["problem"]!["status"]!).ShouldBe(403, name);
                    break;
                case ActsFor.NoOrganisation when route.Metadata.GetMetadata<IAuthorizeData>()!.Policy == Scopes.Admin:
                    await ProblemOf(await SendAsync(method, url, "{}", rival, 403), 403);
                    break;
                case ActsFor.NoOrganisation:
                    catalog.Add(name);
                    break;
                default:
                    throw new ShouldAssertException($"{name} does not declare which organisation it acts on.");
            }
        }

        catalog.ShouldBe(CatalogRoutes, ignoreOrder: true);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    [Fact]
    public void start_up_fails_for_a_route_that_does_not_say_which_organisation_it_acts_on()
    {
        var undeclared = Endpoint("/api/v1/usage/{orgId}/secret");
        var misnamed = Endpoint("/api/v1/usage/{organisation}/secret", new ActsFor.OrganisationInRoute("orgId"));
        var declared = Endpoint("/api/v1/usage/{orgId}/secret", new ActsFor.OrganisationInRoute("orgId"));

        Should.Throw<InvalidOperationException>(() => Access.RequireDeclaredOrganisations([undeclared])).Message.ShouldContain("does not declare");
        Should.Throw<InvalidOperationException>(() => Access.RequireDeclaredOrganisations([misnamed])).Message.ShouldContain("no parameter");
        Access.RequireDeclaredOrganisations([declared]);
    }

    [Fact]
    public void the_rule_lets_an_admin_act_for_anyone_and_anyone_else_for_their_own_organisation_only()
    {
        var member = new Caller("u", "acme", new HashSet<string> { Scopes.Read, Scopes.Write });

        member.MayActFor("acme").ShouldBeTrue();
        member.MayActFor("rival").ShouldBeFalse();
        member.HasScope(Scopes.Admin).ShouldBeFalse();
        Caller.Operator("ops").MayActFor("rival").ShouldBeTrue();
        Caller.Operator("ops").HasScope(Scopes.Write).ShouldBeTrue();
    }

    private static RouteEndpoint Endpoint(string pattern, params object[] metadata) =>
        new(_ => Task.CompletedTask, RoutePatternFactory.Parse(pattern), 0,
            new EndpointMetadataCollection([new AuthorizeAttribute(Scopes.Read), .. metadata]), pattern);

    private static string UrlOf(RoutePattern pattern) =>
        "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { Name: "orgId" } => "acme",
            RoutePatternParameterPart { Name: "feature" } => "AI_MESSAGES",
            RoutePatternParameterPart { Name: "code" } => "free",
            RoutePatternParameterPart { Name: "reservationId" or "id" or "deliveryId" or "eventId" } => Guid.Empty.ToString(),
            RoutePatternParameterPart parameter => throw new ShouldAssertException($"No example value for route parameter {{{parameter.Name}}}."),
            _ => throw new ShouldAssertException($"Unexpected route part in {pattern.RawText}."),
        }))));

    private Task<IScenarioResult> SendAsync(string method, string url, string body, string token, int status) =>
        Host.Scenario(x =>
        {
            _ = method switch
            {
                "GET" => x.Get.Url(url),
                "DELETE" => x.Delete.Url(url),
                "PUT" => x.Put.Text(body).ToUrl(url),
                "PATCH" => x.Patch.Text(body).ToUrl(url),
                _ => x.Post.Text(body).ToUrl(url),
            };
            if (method is "PUT" or "POST" or "PATCH")
                x.WithRequestHeader("Content-Type", "application/json");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });
}
