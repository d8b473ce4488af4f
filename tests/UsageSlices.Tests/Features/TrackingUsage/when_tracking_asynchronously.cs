using System.Text.Json.Nodes;
using Alba;
using Microsoft.Extensions.Logging;
using Shouldly;
using UsageSlices.Tests.Support;
using Wolverine.Tracking;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_tracking_asynchronously(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task prefer_respond_async_is_202_once_queued_and_the_event_is_then_counted_once()
    {
        await RegisterAsync("acme");

        var (result, accepted) = await TrackAsyncAndWaitAsync("acme", new { feature = "AI_MESSAGES", quantity = 3, idempotencyKey = "async-1" });

        result.Context.Response.Headers["Preference-Applied"].ToString().ShouldBe("respond-async");
        ((string)accepted["orgId"]!).ShouldBe("acme");
        ((string)accepted["feature"]!).ShouldBe("AI_MESSAGES");
        ((long)accepted["quantity"]!).ShouldBe(3);
        ((string)accepted["idempotencyKey"]!).ShouldBe("async-1");
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(3);
    }

    [Fact]
    public async Task a_call_without_a_key_is_given_one_so_that_it_counts_once()
    {
        await RegisterAsync("acme");

        var (_, accepted) = await TrackAsyncAndWaitAsync("acme", new { feature = "DOCUMENT_SCANS", quantity = 2 });

        var key = (string)accepted["idempotencyKey"]!;
        key.ShouldStartWith("async-");
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(2);
        var retry = await TrackAsync("acme", "DOCUMENT_SCANS", 2, key: key);
        ((bool)retry["duplicate"]!).ShouldBeTrue();
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(2);
    }

    [Fact]
    public async Task the_same_key_sent_async_and_sync_counts_once()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 5, key: "shared");

        await TrackAsyncAndWaitAsync("acme", new { feature = "AI_MESSAGES", quantity = 5, idempotencyKey = "shared" });

        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(5);
    }

    [Theory]
    [InlineData("respond-async", 202)]
    [InlineData("RESPOND-ASYNC", 202)]
    [InlineData("wait=5, respond-async", 202)]
    [InlineData("respond-async; foo=bar", 202)]
    [InlineData("respond-async-not", 200)]
    [InlineData("not-respond-async", 200)]
    [InlineData("return=minimal", 200)]
    public async Task only_the_respond_async_preference_itself_queues_the_call(string prefer, int status)
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", idempotencyKey = "k-prefer" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.WithRequestHeader("Prefer", prefer);
            x.StatusCodeShouldBe(status);
        });

        result.Context.Response.Headers["Preference-Applied"].ToString().ShouldBe(status == 202 ? "respond-async" : "");
        if (status == 200)
            ((long)(await BodyOf(result))["used"]!).ShouldBe(1);
    }

    [Fact]
    public async Task what_could_never_be_counted_is_refused_at_once()
    {
        await RegisterAsync("acme");

        var unknownOrganisation = await SendAsync("ghost", new { feature = "AI_MESSAGES" }, AdminToken, 404);
        await ProblemOf(unknownOrganisation, 404);
        var unknownFeature = await SendAsync("acme", new { feature = "NOPE" }, TokenFor("acme"), 400);
        ErrorKeysOf(await ProblemOf(unknownFeature, 400)).ShouldBe(["feature"]);
        var badQuantity = await SendAsync("acme", new { feature = "AI_MESSAGES", quantity = 0 }, TokenFor("acme"), 400);
        ErrorKeysOf(await ProblemOf(badQuantity, 400)).ShouldBe(["quantity"]);
        var enforce = await SendAsync("acme", new { feature = "AI_MESSAGES", enforce = true }, TokenFor("acme"), 400);
        ErrorKeysOf(await ProblemOf(enforce, 400)).ShouldBe(["enforce"]);
        var anonymous = await SendAsync("acme", new { feature = "AI_MESSAGES" }, null, 401);
        await ProblemOf(anonymous, 401);

        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_queued_event_that_fails_is_logged_as_a_failed_to_track_usage_warning_and_changes_nothing()
    {
        await RegisterAsync("acme");
        var logs = Host.Services.GetFakeLogCollector();
        logs.Clear();

        await TrackAsyncAndWaitAsync("acme", new { feature = "TEAM_MEMBERS", quantity = -1, idempotencyKey = "release-too-much" });

        var warning = logs.GetSnapshot().Where(entry => entry.Message.StartsWith("Failed to track usage")).ShouldHaveSingleItem();
        warning.Level.ShouldBe(LogLevel.Warning);
        warning.Message.ShouldContain("TEAM_MEMBERS");
        (await UsedAsync("acme", "TEAM_MEMBERS")).ShouldBe(0);
    }

    private async Task<(IScenarioResult Result, JsonObject Accepted)> TrackAsyncAndWaitAsync(string orgId, object body)
    {
        IScenarioResult? result = null;
        await Host.ExecuteAndWaitAsync(async () => result = await SendAsync(orgId, body, TokenFor(orgId), 202), 30_000);
        return (result!, await BodyOf(result!));
    }

    private Task<IScenarioResult> SendAsync(string orgId, object body, string? token, int status) =>
        Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl($"/api/v1/usage/{orgId}/track");
            x.WithRequestHeader("Prefer", "respond-async");
            if (token is not null)
                x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });
}
