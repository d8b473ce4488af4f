using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.UpsertingTiers;

public sealed class when_managing_tiers(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_seeded_tiers_are_listed_cheapest_first_with_prices_and_limits()
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/tiers");
            x.WithBearerToken(TokenFor("acme", Scopes.Read));
        });

        var tiers = (await result.ReadAsTextAsync());
        var list = System.Text.Json.Nodes.JsonNode.Parse(tiers)!.AsArray();
        list.Select(t => (string)t!["code"]!).ShouldBe(["free", "starter", "pro", "business"]);
        list.Select(t => (decimal)t!["priceMonthly"]!).ShouldBe([0m, 29m, 79m, 149m]);
        var business = list[3]!.AsObject();
        ((string)business["name"]!).ShouldBe("Business");
        ((string)business["currency"]!).ShouldBe("USD");
        var limits = business["limits"]!.AsObject();
        ((long)limits["AI_MESSAGES"]!).ShouldBe(25_000);
        limits["INVOICES"].ShouldBeNull();
        limits.ContainsKey("INVOICES").ShouldBeTrue();
        ((bool)limits["API_ACCESS"]!).ShouldBeTrue();
        ((long)list[0]!["limits"]!["API_CALLS"]!).ShouldBe(0);
        list.ShouldAllBe(t => t!["alertThresholds"]!.AsArray().Select(p => (int)p!).SequenceEqual(new[] { 80, 100 }));
    }

    [Fact]
    public async Task a_tier_keeps_its_alert_thresholds_in_order_and_the_default_is_80_and_100()
    {
        var chosen = await UpsertAsync("team", new { name = "Team", priceMonthly = 1, alertThresholds = new[] { 150, 50, 90 } }, 201);
        var defaulted = await UpsertAsync("solo", new { name = "Solo", priceMonthly = 1 }, 201);
        var none = await UpsertAsync("quiet", new { name = "Quiet", priceMonthly = 1, alertThresholds = Array.Empty<int>() }, 201);

        chosen["alertThresholds"]!.AsArray().Select(p => (int)p!).ShouldBe([50, 90, 150]);
        defaulted["alertThresholds"]!.AsArray().Select(p => (int)p!).ShouldBe([80, 100]);
        none["alertThresholds"]!.AsArray().ShouldBeEmpty();
        await using var session = Store.QuerySession();
        (await session.LoadAsync<SubscriptionTier>("team", Cancel))!.AlertThresholds.ShouldBe([50, 90, 150]);
    }

    [Fact]
    public async Task one_tier_reads_by_code_and_an_unknown_code_is_404()
    {
        var pro = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/tiers/pro");
            x.WithBearerToken(TokenFor("acme", Scopes.Read));
        });
        ((long)(await BodyOf(pro))["limits"]!["DOCUMENT_SCANS"]!).ShouldBe(1_000);

        await GetProblemAsync("/api/v1/tiers/platinum", TokenFor("acme", Scopes.Read), 404);
    }

    [Fact]
    public async Task an_admin_creates_a_tier_201_then_replaces_it_200_and_organisations_on_it_get_the_new_limits()
    {
        await UpsertAsync("team", new { name = "Team", priceMonthly = 49.5m, limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = 2, ["API_ACCESS"] = true } }, 201);
        await RegisterAsync("acme", "team");
        await TrackAsync("acme", "AI_MESSAGES", 2);
        ((bool)(await CheckAsync("acme", "AI_MESSAGES"))["allowed"]!).ShouldBeFalse();

        var replaced = await UpsertAsync("team", new { name = "Team", priceMonthly = 59m, currency = "EUR", limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = null } }, 200);

        ((string)replaced["currency"]!).ShouldBe("EUR");
        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((bool)check["allowed"]!).ShouldBeTrue();
        ((bool)check["unlimited"]!).ShouldBeTrue();
        ((bool)(await CheckAsync("acme", "API_ACCESS"))["allowed"]!).ShouldBeFalse();
        await using var session = Store.QuerySession();
        var stored = await session.LoadAsync<SubscriptionTier>("team", Cancel);
        stored!.PriceMonthly.ShouldBe(59m);
        stored.Limits["AI_MESSAGES"].ShouldBe(TierLimit.Quota(null));
    }

    [Theory]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"NOT_A_FEATURE":1}}""", "limits.NOT_A_FEATURE")]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"API_ACCESS":5}}""", "limits.API_ACCESS")]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":true}}""", "limits.AI_MESSAGES")]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":-1}}""", "limits.AI_MESSAGES")]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":"10"}}""", "")]
    [InlineData("""{"name":"X","priceMonthly":1,"limits":{"ai messages":1}}""", "limits.ai messages")]
    [InlineData("""{"name":"X","priceMonthly":-1}""", "priceMonthly")]
    [InlineData("""{"name":"X","priceMonthly":1,"currency":"usd"}""", "currency")]
    [InlineData("""{"priceMonthly":1}""", "name")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":[0]}""", "alertThresholds")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":[1001]}""", "alertThresholds")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":[80,80]}""", "alertThresholds")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":[1,2,3,4,5,6,7,8,9,10,11]}""", "alertThresholds")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":[80.5]}""", "")]
    [InlineData("""{"name":"X","priceMonthly":1,"alertThresholds":"80"}""", "")]
    public async Task bad_limits_or_fields_are_400_and_store_nothing(string body, string field) =>
        await RawBodyIsRefusedAsync("PUT", "/api/v1/tiers/team", body, AdminToken, field);

    [Fact]
    public async Task only_an_admin_upserts_tiers()
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { name = "Free", priceMonthly = 0, limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = null } }).ToUrl("/api/v1/tiers/free");
            x.WithBearerToken(TokenFor("acme", Scopes.Read, Scopes.Write));
            x.StatusCodeShouldBe(403);
        });

        await ProblemOf(result, 403);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<SubscriptionTier>("free", Cancel))!.Limits["AI_MESSAGES"].Max.ShouldBe(50);
    }

    [Fact]
    public async Task reading_tiers_needs_a_token()
    {
        await GetProblemAsync("/api/v1/tiers", null, 401);
    }

    [Fact]
    public async Task the_feature_catalog_lists_each_kind_and_period()
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/features");
            x.WithBearerToken(TokenFor("acme", Scopes.Read));
        });

        var features = System.Text.Json.Nodes.JsonNode.Parse(await result.ReadAsTextAsync())!.AsArray()
            .ToDictionary(f => (string)f!["code"]!, f => f!.AsObject());
        features.Count.ShouldBe(8);
        ((string)features["API_CALLS"]["kind"]!).ShouldBe("metered");
        ((string)features["API_CALLS"]["period"]!).ShouldBe("day");
        ((string)features["STORAGE_MB"]["kind"]!).ShouldBe("allocation");
        features["STORAGE_MB"]["period"].ShouldBeNull();
        ((string)features["API_ACCESS"]["kind"]!).ShouldBe("boolean");
    }

    private async Task<System.Text.Json.Nodes.JsonObject> UpsertAsync(string code, object body, int status)
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(body).ToUrl($"/api/v1/tiers/{code}");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }
}
