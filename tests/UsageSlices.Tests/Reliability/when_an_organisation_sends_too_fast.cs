using Alba;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>An instance of the service with a small rate limit: one request per second, a burst of three.</summary>
public sealed class SlowInstance : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Host = await AppFixture.StartHostAsync(new Dictionary<string, string>
    {
        ["RateLimiting:PermitsPerSecond"] = "1",
        ["RateLimiting:Burst"] = "3",
    });

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}

public sealed class when_an_organisation_sends_too_fast(AppFixture app, SlowInstance slow) : ApiTest(app), IClassFixture<SlowInstance>
{
    [Fact]
    public async Task past_its_burst_it_gets_429_problem_with_retry_after_and_other_organisations_are_unaffected()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");

        // The burst of 3 is admitted; a token comes back every second, so on a slow machine one more call may pass
        // before the refusal. Either way the refusal comes within a few calls, and only admitted calls are counted.
        var admitted = 0;
        IScenarioResult? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var result = await slow.Host.Scenario(x =>
            {
                x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
                x.WithBearerToken(TokenFor("acme"));
                x.IgnoreStatusCode();
            });
            if (result.Context.Response.StatusCode == 429)
            {
                limited = result;
                continue;
            }

            result.Context.Response.StatusCode.ShouldBe(200);
            admitted++;
        }

        admitted.ShouldBeGreaterThanOrEqualTo(3);
        limited.ShouldNotBeNull();
        var problem = await ProblemOf(limited, 429);
        problem["detail"]!.ToString().ShouldContain("over its request rate on this instance; retry after");
        int.Parse(limited.Context.Response.Headers.RetryAfter.ToString()).ShouldBeGreaterThanOrEqualTo(1);
        await slow.Host.Scenario(x => Track(x, "globex", 200));
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(admitted);
    }

    private void Track(Scenario x, string orgId, int status)
    {
        x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl($"/api/v1/usage/{orgId}/track");
        x.WithBearerToken(TokenFor(orgId));
        x.StatusCodeShouldBe(status);
    }
}
