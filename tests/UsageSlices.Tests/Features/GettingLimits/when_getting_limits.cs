using System.Text.Json.Nodes;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.GettingLimits;

public sealed class when_getting_limits(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task every_feature_is_listed_with_the_tier_numbers_and_current_usage()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 12);
        await TrackAsync("acme", "TEAM_MEMBERS", 1);

        var limits = await LimitsAsync("acme", TokenFor("acme"));

        ((string)limits["orgId"]!).ShouldBe("acme");
        var tier = limits["tier"]!.AsObject();
        ((string)tier["code"]!).ShouldBe("free");
        ((string)tier["name"]!).ShouldBe("Free");
        ((decimal)tier["priceMonthly"]!).ShouldBe(0m);
        ((string)tier["currency"]!).ShouldBe("USD");
        var features = limits["features"]!.AsArray().Select(f => f!.AsObject()).ToDictionary(f => (string)f["feature"]!);
        features.Keys.ShouldBe(
            ["AI_MESSAGES", "API_ACCESS", "API_CALLS", "BANK_CONNECTIONS", "DOCUMENT_SCANS", "INVOICES", "STORAGE_MB", "TEAM_MEMBERS"],
            ignoreOrder: true);

        var ai = features["AI_MESSAGES"];
        ((string)ai["kind"]!).ShouldBe("metered");
        ((string)ai["period"]!).ShouldBe("month");
        ((bool)ai["enabled"]!).ShouldBeTrue();
        ((long)ai["limit"]!).ShouldBe(50);
        ((long)ai["used"]!).ShouldBe(12);
        ((long)ai["remaining"]!).ShouldBe(38);
        ((string)ai["resetsAt"]!).ShouldBe((string)ai["periodEnd"]!);

        var members = features["TEAM_MEMBERS"];
        ((string)members["kind"]!).ShouldBe("allocation");
        members["period"].ShouldBeNull();
        ((long)members["used"]!).ShouldBe(1);
        ((long)members["remaining"]!).ShouldBe(0);
        members["resetsAt"].ShouldBeNull();

        ((bool)features["API_ACCESS"]["enabled"]!).ShouldBeFalse();
        ((bool)features["API_CALLS"]["enabled"]!).ShouldBeFalse();
        ((string)features["API_CALLS"]["period"]!).ShouldBe("day");
        ((long)features["STORAGE_MB"]["limit"]!).ShouldBe(500);
    }

    [Fact]
    public async Task an_unknown_organisation_is_404_and_a_malformed_id_is_400()
    {
        await GetProblemAsync("/api/v1/usage/ghost/limits", AdminToken, 404);

        var malformed = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/-bad%20id/limits");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(400);
        });
        ErrorKeysOf(await ProblemOf(malformed, 400)).ShouldBe(["orgId"]);
    }

    [Fact]
    public async Task another_organisations_token_is_403_and_no_token_is_401()
    {
        await RegisterAsync("acme");

        await GetProblemAsync("/api/v1/usage/acme/limits", TokenFor("rival"), 403);

        await GetProblemAsync("/api/v1/usage/acme/limits", null, 401);
    }

    private async Task<JsonObject> LimitsAsync(string orgId, string token)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url($"/api/v1/usage/{orgId}/limits");
            x.WithBearerToken(token);
        });
        return await BodyOf(result);
    }
}
