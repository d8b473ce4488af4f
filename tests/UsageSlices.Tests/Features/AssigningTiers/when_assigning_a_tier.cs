using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.AssigningTiers;

public sealed class when_assigning_a_tier(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task an_upgrade_keeps_the_period_usage_and_lifts_the_limit_at_once()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 50);
        ((bool)(await CheckAsync("acme", "AI_MESSAGES"))["allowed"]!).ShouldBeFalse();

        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "pro", reason = "Upgraded in billing" }).ToUrl("/api/v1/usage/acme/tier");
            x.WithBearerToken(Mint("ops@example.com", null, Scopes.Admin));
        });

        var assignment = await BodyOf(result);
        ((string)assignment["tier"]!).ShouldBe("pro");
        ((string)assignment["previousTier"]!).ShouldBe("free");
        ((bool)assignment["changed"]!).ShouldBeTrue();
        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((bool)check["allowed"]!).ShouldBeTrue();
        ((long)check["used"]!).ShouldBe(50);
        ((long)check["limit"]!).ShouldBe(5_000);
        ((string)check["tier"]!).ShouldBe("pro");
        (await TrackAsync("acme", "AI_MESSAGES", 1, enforce: true))["used"]!.GetValue<long>().ShouldBe(51);
    }

    [Fact]
    public async Task the_change_is_an_event_with_the_previous_tier_the_actor_and_the_reason()
    {
        await RegisterAsync("acme");

        await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "business", reason = "Enterprise deal" }).ToUrl("/api/v1/usage/acme/tier");
            x.WithBearerToken(Mint("ops@example.com", null, Scopes.Admin));
        });

        await using var session = Store.QuerySession();
        var events = await session.Events.FetchStreamAsync("acme", token: Cancel);
        var assigned = events.Select(e => e.Data).OfType<TierAssigned>().ShouldHaveSingleItem();
        assigned.Tier.ShouldBe("business");
        assigned.PreviousTier.ShouldBe("free");
        assigned.Actor.ShouldBe("ops@example.com");
        assigned.Reason.ShouldBe("Enterprise deal");
        (await session.LoadAsync<Organisation>("acme", Cancel))!.Tier.ShouldBe("business");
    }

    [Fact]
    public async Task a_downgrade_keeps_usage_so_the_organisation_can_be_over_its_new_limit()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "AI_MESSAGES", 60);

        await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "free" }).ToUrl("/api/v1/usage/acme/tier");
            x.WithBearerToken(AdminToken);
        });

        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((bool)check["allowed"]!).ShouldBeFalse();
        ((string)check["reason"]!).ShouldBe("LIMIT_EXCEEDED");
        ((long)check["used"]!).ShouldBe(60);
    }

    [Fact]
    public async Task assigning_the_current_tier_records_nothing()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "free" }).ToUrl("/api/v1/usage/acme/tier");
            x.WithBearerToken(AdminToken);
        });

        ((bool)(await BodyOf(result))["changed"]!).ShouldBeFalse();
        await using var session = Store.QuerySession();
        (await session.Events.FetchStreamAsync("acme", token: Cancel)).Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("""{"tier":"platinum"}""", "tier")]
    [InlineData("""{"tier":"PRO"}""", "tier")]
    [InlineData("""{}""", "tier")]
    [InlineData("""{"tier":"pro","extra":1}""", "")]
    public async Task an_unknown_or_malformed_tier_is_400_and_changes_nothing(string body, string field)
    {
        await RegisterAsync("acme");

        await RawBodyIsRefusedAsync("PUT", "/api/v1/usage/acme/tier", body, AdminToken, field);
    }

    [Fact]
    public async Task an_unknown_organisation_is_404()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "pro" }).ToUrl("/api/v1/usage/ghost/tier");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(404);
        });

        await ProblemOf(result, 404);
    }

    [Fact]
    public async Task the_organisations_own_write_token_cannot_upgrade_it()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "business" }).ToUrl("/api/v1/usage/acme/tier");
            x.WithBearerToken(TokenFor("acme", Scopes.Read, Scopes.Write));
            x.StatusCodeShouldBe(403);
        });

        (await ProblemOf(result, 403))["detail"]!.ToString().ShouldContain(Scopes.Admin);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme", Cancel))!.Tier.ShouldBe("free");
    }
}
