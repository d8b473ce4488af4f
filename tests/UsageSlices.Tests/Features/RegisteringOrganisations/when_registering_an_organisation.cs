using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.RegisteringOrganisations;

public sealed class when_registering_an_organisation(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_new_organisation_is_201_on_the_free_tier_anchored_on_its_registration_day()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme", name = "Acme Ltd" }).ToUrl("/api/v1/organisations/acme-1");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });

        var organisation = await BodyOf(result);
        ((string)organisation["id"]!).ShouldBe("acme-1");
        ((string)organisation["slug"]!).ShouldBe("acme");
        ((string)organisation["name"]!).ShouldBe("Acme Ltd");
        ((string)organisation["tier"]!).ShouldBe("free");
        ((int)organisation["billingAnchorDay"]!).ShouldBe(DateTimeOffset.UtcNow.Day);
        result.Context.Response.Headers.Location.ToString().ShouldBe("/api/v1/organisations/acme-1");
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme-1", Cancel))!.Name.ShouldBe("Acme Ltd");
    }

    [Fact]
    public async Task registering_again_updates_the_details_and_is_200()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme-renamed", name = "Acme Group", billingAnchorDay = 15, tier = "pro" }).ToUrl("/api/v1/organisations/acme");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(200);
        });

        var organisation = await BodyOf(result);
        ((string)organisation["slug"]!).ShouldBe("acme-renamed");
        ((int)organisation["billingAnchorDay"]!).ShouldBe(15);
        ((string)organisation["tier"]!).ShouldBe("pro");
        await using var session = Store.QuerySession();
        var stored = await session.LoadAsync<Organisation>("acme", Cancel);
        stored!.Slug.ShouldBe("acme-renamed");
        stored.Tier.ShouldBe("pro");
        var events = await session.Events.FetchStreamAsync("acme", token: Cancel);
        events.Select(e => e.Data.GetType()).ShouldBe([typeof(OrganisationRegistered), typeof(OrganisationDetailsChanged), typeof(TierAssigned)]);
    }

    [Fact]
    public async Task a_slug_another_organisation_holds_is_409()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme", name = "Impostor" }).ToUrl("/api/v1/organisations/other");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(409);
        });

        (await ProblemOf(result, 409))["detail"]!.ToString().ShouldContain("acme");
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("other", Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task an_unknown_tier_is_400()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme", name = "Acme", tier = "platinum" }).ToUrl("/api/v1/organisations/acme");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["tier"]);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme", Cancel)).ShouldBeNull();
    }

    [Theory]
    [InlineData("acme", """{"name":"Acme"}""", "slug")]
    [InlineData("acme", """{"slug":"Acme!","name":"Acme"}""", "slug")]
    [InlineData("acme", """{"slug":"acme","name":""}""", "name")]
    [InlineData("acme", """{"slug":"acme","name":"Acme","billingAnchorDay":32}""", "billingAnchorDay")]
    [InlineData("acme", """{"slug":"acme","name":"Acme","billingAnchorDay":0}""", "billingAnchorDay")]
    [InlineData("acme", """{"slug":"acme","name":"Acme","createdAt":"2020-01-01T00:00:00Z"}""", "")]
    [InlineData("has:colon", """{"slug":"acme","name":"Acme"}""", "orgId")]
    [InlineData("_leading", """{"slug":"acme","name":"Acme"}""", "orgId")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234x", """{"slug":"acme","name":"Acme"}""", "orgId")]
    public async Task malformed_input_is_400_and_registers_nothing(string orgId, string body, string field) =>
        await RawBodyIsRefusedAsync("PUT", $"/api/v1/organisations/{Uri.EscapeDataString(orgId)}", body, AdminToken, field);

    [Fact]
    public async Task only_an_admin_registers_organisations()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme", name = "Acme" }).ToUrl("/api/v1/organisations/acme");
            x.WithBearerToken(TokenFor("acme", Scopes.Read, Scopes.Write));
            x.StatusCodeShouldBe(403);
        });

        await ProblemOf(result, 403);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme", Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task no_token_is_401()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = "acme", name = "Acme" }).ToUrl("/api/v1/organisations/acme");
            x.StatusCodeShouldBe(401);
        });

        await ProblemOf(result, 401);
    }
}
