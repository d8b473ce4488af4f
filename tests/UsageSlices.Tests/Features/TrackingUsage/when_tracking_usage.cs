using Marten;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_tracking_usage(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_tracked_event_is_counted_and_reported_against_the_limit()
    {
        await RegisterAsync("acme");

        var tracked = await TrackAsync("acme", "AI_MESSAGES", 3);

        ((string)tracked["orgId"]!).ShouldBe("acme");
        ((string)tracked["feature"]!).ShouldBe("AI_MESSAGES");
        ((long)tracked["quantity"]!).ShouldBe(3);
        ((bool)tracked["duplicate"]!).ShouldBeFalse();
        ((long)tracked["used"]!).ShouldBe(3);
        ((long)tracked["limit"]!).ShouldBe(50);
        ((long)tracked["remaining"]!).ShouldBe(47);
        ((bool)tracked["unlimited"]!).ShouldBeFalse();
        ((bool)tracked["overLimit"]!).ShouldBeFalse();
        Guid.Parse((string)tracked["eventId"]!).ShouldNotBe(Guid.Empty);
        ((string?)tracked["periodStart"]).ShouldNotBeNull();
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(3);
    }

    [Fact]
    public async Task record_mode_records_past_the_limit_and_says_the_organisation_is_over_it()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "DOCUMENT_SCANS", 10);

        var tracked = await TrackAsync("acme", "DOCUMENT_SCANS", 2);

        ((long)tracked["used"]!).ShouldBe(12);
        ((long)tracked["remaining"]!).ShouldBe(0);
        ((bool)tracked["overLimit"]!).ShouldBeTrue();
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(12);
    }

    [Fact]
    public async Task enforce_mode_admits_within_the_limit()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "INVOICES", 4);

        var tracked = await TrackAsync("acme", "INVOICES", 1, enforce: true);

        ((long)tracked["used"]!).ShouldBe(5);
        ((bool)tracked["overLimit"]!).ShouldBeFalse();
    }

    [Fact]
    public async Task enforce_mode_past_the_limit_is_402_with_the_numbers_and_records_nothing()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "INVOICES", 4);

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "INVOICES", quantity = 2, enforce = true, idempotencyKey = "k-402" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(402);
        });

        var problem = await ProblemOf(result, 402);
        ((string)problem["reason"]!).ShouldBe("REQUESTED_EXCEEDS_REMAINING");
        ((long)problem["requested"]!).ShouldBe(2);
        ((long)problem["used"]!).ShouldBe(4);
        ((long)problem["limit"]!).ShouldBe(5);
        ((long)problem["remaining"]!).ShouldBe(1);
        (await UsedAsync("acme", "INVOICES")).ShouldBe(4);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<IdempotencyRecord>("acme:k-402", Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task enforce_mode_on_a_feature_not_in_the_tier_is_402_not_in_tier()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "API_CALLS", quantity = 1, enforce = true }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(402);
        });

        ((string)(await ProblemOf(result, 402))["reason"]!).ShouldBe("NOT_IN_TIER");
        (await UsedAsync("acme", "API_CALLS")).ShouldBe(0);
    }

    [Fact]
    public async Task an_allocation_goes_up_and_down()
    {
        await RegisterAsync("acme", tier: "starter");
        await TrackAsync("acme", "TEAM_MEMBERS", 3);

        var released = await TrackAsync("acme", "TEAM_MEMBERS", -2);

        ((long)released["used"]!).ShouldBe(1);
        ((long)released["remaining"]!).ShouldBe(2);
        ((string?)released["periodStart"]).ShouldBeNull();
        (await UsedAsync("acme", "TEAM_MEMBERS")).ShouldBe(1);
    }

    [Fact]
    public async Task releasing_an_allocation_below_zero_is_409_and_changes_nothing()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "BANK_CONNECTIONS", 1);

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "BANK_CONNECTIONS", quantity = -2 }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(409);
        });

        (await ProblemOf(result, 409))["detail"]!.ToString().ShouldContain("below zero");
        (await UsedAsync("acme", "BANK_CONNECTIONS")).ShouldBe(1);
    }

    [Fact]
    public async Task enforce_mode_on_an_allocation_refuses_past_the_gauge_limit_but_always_allows_a_release()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "TEAM_MEMBERS", 1, enforce: true);

        await TrackAsync("acme", "TEAM_MEMBERS", 1, enforce: true, status: 402);
        var released = await TrackAsync("acme", "TEAM_MEMBERS", -1, enforce: true);

        ((long)released["used"]!).ShouldBe(0);
    }

    [Theory]
    [InlineData("API_ACCESS", 1, "boolean")]
    [InlineData("AI_MESSAGES", -1, "only positive")]
    [InlineData("NO_SUCH_FEATURE", 1, "not a feature")]
    public async Task a_quantity_the_feature_cannot_take_is_400_and_records_nothing(string feature, long quantity, string detail)
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature, quantity }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        var problem = await ProblemOf(result, 400);
        problem["detail"]!.ToString().ShouldContain(detail);
        problem["errors"].ShouldNotBeNull();
        await using var session = Store.QuerySession();
        (await session.Events.QueryRawEventDataOnly<UsageRecorded>().CountAsync(Cancel)).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"feature":"AI_MESSAGES","quantity":0}""", "quantity")]
    [InlineData("""{"feature":"AI_MESSAGES","quantity":1000000001}""", "quantity")]
    [InlineData("""{"feature":"ai_messages"}""", "feature")]
    [InlineData("""{"quantity":1}""", "feature")]
    [InlineData("""{"feature":"AI_MESSAGES","quantity":1.5}""", "")]
    [InlineData("""{"feature":"AI_MESSAGES","quantity":"1"}""", "")]
    [InlineData("""{"feature":"AI_MESSAGES","tier":"business"}""", "")]
    [InlineData("""{"feature":"AI_MESSAGES",""", "")]
    [InlineData("""{"feature":"AI_MESSAGES","idempotencyKey":""}""", "idempotencyKey")]
    [InlineData("""{"feature":"AI_MESSAGES","idempotencyKey":"caf\u00e9"}""", "idempotencyKey")]
    [InlineData("""{"feature":"AI_MESSAGES","properties":{"k":null}}""", "")]
    public async Task malformed_input_is_400_problem_and_records_nothing(string body, string field)
    {
        await RegisterAsync("acme");

        await RawBodyIsRefusedAsync("POST", "/api/v1/usage/acme/track", body, TokenFor("acme"), field);
    }

    [Fact]
    public async Task too_many_properties_is_400()
    {
        await RegisterAsync("acme");
        var properties = Enumerable.Range(0, 17).ToDictionary(i => $"p{i}", i => "v");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", properties }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["properties"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task properties_are_kept_with_the_event()
    {
        await RegisterAsync("acme");

        await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", properties = new Dictionary<string, string> { ["model"] = "gpt", ["chat"] = "c-1" } })
                .ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
        });

        await using var session = Store.QuerySession();
        var recorded = (await session.Events.QueryRawEventDataOnly<UsageRecorded>().ToListAsync(Cancel)).ShouldHaveSingleItem();
        recorded.Properties.ShouldNotBeNull();
        recorded.Properties["model"].ShouldBe("gpt");
        recorded.Properties["chat"].ShouldBe("c-1");
    }

    [Fact]
    public async Task an_unknown_organisation_is_404()
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/ghost/track");
            x.WithBearerToken(TokenFor("ghost"));
            x.StatusCodeShouldBe(404);
        });

        (await ProblemOf(result, 404))["detail"]!.ToString().ShouldContain("ghost");
    }

    [Fact]
    public async Task no_token_is_401_and_records_nothing()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
            x.StatusCodeShouldBe(401);
        });

        await ProblemOf(result, 401);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_token_signed_with_another_key_is_401()
    {
        await RegisterAsync("acme");
        var settings = new AuthSettings { SigningKey = new string('x', 48) };
        var forged = new TokenIssuer(settings, TimeProvider.System).Mint("mallory", "acme", [Scopes.Write], TimeSpan.FromHours(1));

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(forged);
            x.StatusCodeShouldBe(401);
        });

        await ProblemOf(result, 401);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_read_only_token_is_403()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme", Scopes.Read));
            x.StatusCodeShouldBe(403);
        });

        (await ProblemOf(result, 403))["detail"]!.ToString().ShouldContain(Scopes.Write);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task another_organisations_token_is_403()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("rival"));
            x.StatusCodeShouldBe(403);
        });

        (await ProblemOf(result, 403))["detail"]!.ToString().ShouldContain("organisation");
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task an_admin_token_tracks_for_any_organisation()
    {
        await RegisterAsync("acme");

        await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", quantity = 2 }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(AdminToken);
        });

        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }
}
