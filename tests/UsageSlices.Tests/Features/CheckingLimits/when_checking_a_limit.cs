using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.CheckingLimits;

public sealed class when_checking_a_limit(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_fresh_organisation_may_use_a_metered_feature_up_to_its_tier_limit()
    {
        await RegisterAsync("acme");

        var check = await CheckAsync("acme", "AI_MESSAGES");

        ((string)check["orgId"]!).ShouldBe("acme");
        ((string)check["feature"]!).ShouldBe("AI_MESSAGES");
        ((string)check["kind"]!).ShouldBe("metered");
        ((string)check["tier"]!).ShouldBe("free");
        ((bool)check["allowed"]!).ShouldBeTrue();
        check["reason"].ShouldBeNull();
        ((long)check["requested"]!).ShouldBe(1);
        ((long)check["used"]!).ShouldBe(0);
        ((long)check["limit"]!).ShouldBe(50);
        ((long)check["remaining"]!).ShouldBe(50);
        ((bool)check["unlimited"]!).ShouldBeFalse();
        ((string)check["resetsAt"]!).ShouldBe((string)check["periodEnd"]!);
        ((string?)check["asOf"]).ShouldNotBeNull();
    }

    [Fact]
    public async Task asking_for_more_than_remains_is_refused_with_the_reason()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "INVOICES", 3);

        var check = await CheckAsync("acme", "INVOICES", 3);

        ((bool)check["allowed"]!).ShouldBeFalse();
        ((string)check["reason"]!).ShouldBe("REQUESTED_EXCEEDS_REMAINING");
        ((long)check["remaining"]!).ShouldBe(2);
    }

    [Fact]
    public async Task at_the_limit_the_reason_is_limit_exceeded()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "INVOICES", 5);

        var check = await CheckAsync("acme", "INVOICES");

        ((bool)check["allowed"]!).ShouldBeFalse();
        ((string)check["reason"]!).ShouldBe("LIMIT_EXCEEDED");
        ((long)check["remaining"]!).ShouldBe(0);
    }

    [Fact]
    public async Task a_feature_with_limit_zero_is_not_in_the_tier()
    {
        await RegisterAsync("acme");

        var check = await CheckAsync("acme", "API_CALLS");

        ((bool)check["allowed"]!).ShouldBeFalse();
        ((string)check["reason"]!).ShouldBe("NOT_IN_TIER");
        ((string)check["periodEnd"]!).ShouldNotBeNull();
    }

    [Theory]
    [InlineData("free", false)]
    [InlineData("pro", true)]
    public async Task a_boolean_feature_follows_the_tier_flag(string tier, bool allowed)
    {
        await RegisterAsync("acme", tier);

        var check = await CheckAsync("acme", "API_ACCESS");

        ((string)check["kind"]!).ShouldBe("boolean");
        ((bool)check["allowed"]!).ShouldBe(allowed);
        ((string?)check["reason"]).ShouldBe(allowed ? null : "NOT_IN_TIER");
        check["limit"].ShouldBeNull();
        check["periodStart"].ShouldBeNull();
    }

    [Fact]
    public async Task an_unlimited_feature_is_always_allowed()
    {
        await RegisterAsync("acme", "business");
        await TrackAsync("acme", "INVOICES", 1_000_000);

        var check = await CheckAsync("acme", "INVOICES", 1_000_000);

        ((bool)check["allowed"]!).ShouldBeTrue();
        ((bool)check["unlimited"]!).ShouldBeTrue();
        check["limit"].ShouldBeNull();
        check["remaining"].ShouldBeNull();
        ((long)check["used"]!).ShouldBe(1_000_000);
    }

    [Fact]
    public async Task a_check_changes_nothing()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 7);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        for (var i = 0; i < 3; i++)
            ((long)(await CheckAsync("acme", "AI_MESSAGES", 5))["used"]!).ShouldBe(7);

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    [Theory]
    [InlineData("/api/v1/usage/acme/check/NOT_A_FEATURE", "feature")]
    [InlineData("/api/v1/usage/acme/check/ai-messages", "feature")]
    [InlineData("/api/v1/usage/acme/check/AI_MESSAGES?quantity=0", "quantity")]
    [InlineData("/api/v1/usage/acme/check/AI_MESSAGES?quantity=-4", "quantity")]
    [InlineData("/api/v1/usage/acme/check/AI_MESSAGES?quantity=lots", "")]
    public async Task bad_input_is_400(string url, string field)
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Get.Url(url);
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        var problem = await ProblemOf(result, 400);
        if (field.Length > 0)
            ErrorKeysOf(problem).ShouldBe([field]);
    }

    [Fact]
    public async Task an_unknown_organisation_is_404()
    {
        await GetProblemAsync("/api/v1/usage/ghost/check/AI_MESSAGES", AdminToken, 404);
    }

    [Fact]
    public async Task a_write_only_token_is_403_and_another_organisations_token_is_403()
    {
        await RegisterAsync("acme");

        foreach (var token in new[] { TokenFor("acme", Scopes.Write), TokenFor("rival", Scopes.Read) })
        {
            await GetProblemAsync("/api/v1/usage/acme/check/AI_MESSAGES", token, 403);
        }
    }

    [Fact]
    public async Task no_token_is_401()
    {
        await RegisterAsync("acme");

        await GetProblemAsync("/api/v1/usage/acme/check/AI_MESSAGES", null, 401);
    }
}
