using System.Text.Json.Nodes;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.GrantingOverrides;

public sealed class when_an_organisation_has_an_override(AppFixture app) : ApiTest(app)
{
    private const string Url = "/api/v1/organisations/acme/overrides";

    [Fact]
    public async Task a_grant_replaces_the_tier_limit_at_once_in_checks_limits_and_enforce_mode()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 50);
        await TrackAsync("acme", "AI_MESSAGES", 1, enforce: true, status: 402);
        var expiresAt = Clock.GetUtcNow().AddDays(30);

        var granted = await GrantOverrideAsync("acme", "AI_MESSAGES",
            new { limit = 200, expiresAt, reason = "Launch month" }, Mint("sales@example.com", null, Scopes.Admin));

        ((string)granted["orgId"]!).ShouldBe("acme");
        ((string)granted["feature"]!).ShouldBe("AI_MESSAGES");
        ((long)granted["limit"]!).ShouldBe(200);
        ((bool)granted["unlimited"]!).ShouldBeFalse();
        ((DateTimeOffset)granted["expiresAt"]!).ShouldBe(expiresAt, TimeSpan.FromMilliseconds(1));
        ((string)granted["reason"]!).ShouldBe("Launch month");
        ((string)granted["grantedBy"]!).ShouldBe("sales@example.com");
        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((bool)check["allowed"]!).ShouldBeTrue();
        ((long)check["limit"]!).ShouldBe(200);
        ((long)check["remaining"]!).ShouldBe(150);
        ((string)check["source"]!).ShouldBe("override");
        ((DateTimeOffset)check["overrideExpiresAt"]!).ShouldBe(expiresAt, TimeSpan.FromMilliseconds(1));
        ((string)check["tier"]!).ShouldBe("free");
        var messages = await FeatureOnLimitsPageAsync("acme", "AI_MESSAGES");
        ((string)messages["source"]!).ShouldBe("override");
        ((long)messages["limit"]!).ShouldBe(200);
        ((string)(await FeatureOnLimitsPageAsync("acme", "DOCUMENT_SCANS"))["source"]!).ShouldBe("tier");
        ((long)(await TrackAsync("acme", "AI_MESSAGES", 150, enforce: true))["used"]!).ShouldBe(200);
        await TrackAsync("acme", "AI_MESSAGES", 1, enforce: true, status: 402);
        // The tier itself is unchanged: the override is the organisation's own.
        var tier = await BodyOf(await Host.Scenario(x => { x.Get.Url("/api/v1/tiers/free"); x.WithBearerToken(AdminToken); }));
        ((long)tier["limits"]!["AI_MESSAGES"]!).ShouldBe(50);

        await using var session = Store.QuerySession();
        var event_ = (await session.Events.FetchStreamAsync("acme", token: Cancel)).Select(e => e.Data).OfType<LimitOverrideGranted>().ShouldHaveSingleItem();
        event_.Actor.ShouldBe("sales@example.com");
        event_.Reason.ShouldBe("Launch month");
        event_.Limit.ShouldBe(TierLimit.Quota(200));
        event_.Replaced.ShouldBeNull();
    }

    [Fact]
    public async Task a_second_grant_replaces_the_first_and_null_is_unlimited()
    {
        await RegisterAsync("acme");
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 200 });

        var second = await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = (long?)null, reason = "Enterprise trial" });

        ((bool)second["unlimited"]!).ShouldBeTrue();
        second["limit"].ShouldBeNull();
        second["expiresAt"].ShouldBeNull();
        var check = await CheckAsync("acme", "AI_MESSAGES", 1_000_000);
        ((bool)check["allowed"]!).ShouldBeTrue();
        ((bool)check["unlimited"]!).ShouldBeTrue();
        check["overrideExpiresAt"].ShouldBeNull();
        var listed = (await BodyOf(await Host.Scenario(x => { x.Get.Url(Url); x.WithBearerToken(TokenFor("acme")); })))["overrides"]!.AsArray();
        listed.Count.ShouldBe(1);
        ((string)listed[0]!["reason"]!).ShouldBe("Enterprise trial");
        await using var session = Store.QuerySession();
        var grants = (await session.Events.FetchStreamAsync("acme", token: Cancel)).Select(e => e.Data).OfType<LimitOverrideGranted>().ToList();
        grants.Count.ShouldBe(2);
        grants[1].Replaced.ShouldBe(TierLimit.Quota(200));
    }

    [Fact]
    public async Task a_boolean_feature_takes_a_flag()
    {
        await RegisterAsync("acme");
        ((bool)(await CheckAsync("acme", "API_ACCESS"))["allowed"]!).ShouldBeFalse();

        var granted = await GrantOverrideAsync("acme", "API_ACCESS", new { limit = true });

        ((bool)granted["limit"]!).ShouldBeTrue();
        ((bool)granted["unlimited"]!).ShouldBeFalse();
        var check = await CheckAsync("acme", "API_ACCESS");
        ((bool)check["allowed"]!).ShouldBeTrue();
        ((string)check["source"]!).ShouldBe("override");
        ((bool)(await FeatureOnLimitsPageAsync("acme", "API_ACCESS"))["enabled"]!).ShouldBeTrue();
    }

    [Fact]
    public async Task at_its_expiry_the_tier_limit_applies_again_decided_by_the_clock_alone()
    {
        await RegisterAsync("acme");
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 200, expiresAt = Clock.GetUtcNow().AddHours(1) });
        await TrackAsync("acme", "AI_MESSAGES", 120, enforce: true);

        Clock.Advance(TimeSpan.FromHours(1));

        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((string)check["source"]!).ShouldBe("tier");
        ((long)check["limit"]!).ShouldBe(50);
        ((long)check["used"]!).ShouldBe(120);
        ((bool)check["allowed"]!).ShouldBeFalse();
        await TrackAsync("acme", "AI_MESSAGES", 1, enforce: true, status: 402);
        var active = await BodyOf(await Host.Scenario(x => { x.Get.Url(Url); x.WithBearerToken(TokenFor("acme")); }));
        active["overrides"]!.AsArray().ShouldBeEmpty();
        var all = await BodyOf(await Host.Scenario(x => { x.Get.Url($"{Url}?includeExpired=true"); x.WithBearerToken(TokenFor("acme")); }));
        var expired = all["overrides"]!.AsArray().ShouldHaveSingleItem()!;
        ((bool)expired["active"]!).ShouldBeFalse();
        // An expired override cannot be revoked: there is nothing active to end.
        await ProblemOf(await Host.Scenario(x => { x.Delete.Url($"{Url}/AI_MESSAGES"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
    }

    [Fact]
    public async Task its_expiry_is_recorded_on_the_organisation_stream_once()
    {
        await RegisterAsync("acme");
        // Scheduled by the real clock, which Wolverine's scheduler follows.
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 200, expiresAt = DateTimeOffset.UtcNow.AddSeconds(1) });

        await using var session = Store.QuerySession();
        await Eventually.WaitUntilAsync(
            async () => (await session.Events.FetchStreamAsync("acme", token: Cancel)).Any(e => e.Data is LimitOverrideExpired),
            "The override's expiry was never recorded.", TimeSpan.FromSeconds(30));

        var expired = (await session.Events.FetchStreamAsync("acme", token: Cancel)).Select(e => e.Data).OfType<LimitOverrideExpired>().ShouldHaveSingleItem();
        expired.Feature.ShouldBe("AI_MESSAGES");
        expired.Actor.ShouldBe(Caller.ServiceSubject);
        ((string)(await CheckAsync("acme", "AI_MESSAGES"))["source"]!).ShouldBe("tier");
    }

    [Fact]
    public async Task revoking_restores_the_tier_limit_and_keeps_the_usage_counted()
    {
        await RegisterAsync("acme");
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 200 });
        await TrackAsync("acme", "AI_MESSAGES", 80, enforce: true);

        await Host.Scenario(x =>
        {
            x.Delete.Url($"{Url}/AI_MESSAGES?reason=Trial%20over");
            x.WithBearerToken(Mint("sales@example.com", null, Scopes.Admin));
            x.StatusCodeShouldBe(204);
        });

        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((string)check["source"]!).ShouldBe("tier");
        ((long)check["used"]!).ShouldBe(80);
        await using var session = Store.QuerySession();
        var revoked = (await session.Events.FetchStreamAsync("acme", token: Cancel)).Select(e => e.Data).OfType<LimitOverrideRevoked>().ShouldHaveSingleItem();
        revoked.Actor.ShouldBe("sales@example.com");
        revoked.Reason.ShouldBe("Trial over");
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var again = await Host.Scenario(x =>
        {
            x.Delete.Url($"{Url}/AI_MESSAGES");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(404);
        });
        await ProblemOf(again, 404);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    public static TheoryData<string, string, string> BadGrants => new()
    {
        { "AI_MESSAGES", """{"limit": true}""", "limit" },
        { "API_ACCESS", """{"limit": 5}""", "limit" },
        { "AI_MESSAGES", """{"limit": -1}""", "limit" },
        { "AI_MESSAGES", """{"limit": 2.5}""", "limit" },
        { "AI_MESSAGES", """{"limit": "100"}""", "limit" },
        { "AI_MESSAGES", """{"reason": "no limit given"}""", "limit" },
        { "AI_MESSAGES", """{"limit": 10, "expiresAt": "2020-01-01T00:00:00Z"}""", "expiresAt" },
        { "AI_MESSAGES", """{"limit": 10, "reason": "line\nbreak"}""", "reason" },
        { "NOT_A_FEATURE", """{"limit": 10}""", "feature" },
        { "ai-messages", """{"limit": 10}""", "feature" },
    };

    [Theory]
    [MemberData(nameof(BadGrants))]
    public async Task a_bad_grant_is_refused_and_changes_nothing(string feature, string body, string errorKey)
    {
        await RegisterAsync("acme");

        await RawBodyIsRefusedAsync("PUT", $"{Url}/{feature}", body, AdminToken, errorKey);
    }

    [Fact]
    public async Task an_expiry_in_the_past_is_refused_by_the_service_clock()
    {
        await RegisterAsync("acme");
        Clock.Advance(TimeSpan.FromDays(2));

        var problem = await RawBodyIsRefusedAsync(
            "PUT", $"{Url}/AI_MESSAGES", $$"""{"limit": 10, "expiresAt": "{{DateTimeOffset.UtcNow.AddDays(1):O}}"}""", AdminToken, "expiresAt");

        ((string)problem["detail"]!).ShouldContain("future");
    }

    [Fact]
    public async Task only_an_admin_grants_or_revokes_and_a_reader_sees_only_its_own()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var body = new { limit = 500 };

        await SendRefusedAsync(x => x.Put.Json(body).ToUrl($"{Url}/AI_MESSAGES"), TokenFor("acme", Scopes.Read, Scopes.Write), 403);
        await SendRefusedAsync(x => x.Put.Json(body).ToUrl($"{Url}/AI_MESSAGES"), null, 401);
        await SendRefusedAsync(x => x.Delete.Url($"{Url}/AI_MESSAGES"), TokenFor("acme", Scopes.Write), 403);
        await SendRefusedAsync(x => x.Get.Url(Url), TokenFor("rival", Scopes.Read), 403);
        await SendRefusedAsync(x => x.Get.Url(Url), null, 401);
        await SendRefusedAsync(x => x.Put.Json(body).ToUrl("/api/v1/organisations/ghost/overrides/AI_MESSAGES"), AdminToken, 404);
        await SendRefusedAsync(x => x.Get.Url("/api/v1/organisations/ghost/overrides"), AdminToken, 404);

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    private async Task<JsonNode> FeatureOnLimitsPageAsync(string orgId, string feature)
    {
        var limits = await BodyOf(await Host.Scenario(x => { x.Get.Url($"/api/v1/usage/{orgId}/limits"); x.WithBearerToken(TokenFor(orgId)); }));
        return limits["features"]!.AsArray().Single(f => (string)f!["feature"]! == feature)!;
    }
}
