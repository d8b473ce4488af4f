using Alba;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>An instance that records one batch at a time and lets none wait.</summary>
public sealed class OneBatchAtATimeInstance : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Host = await AppFixture.StartHostAsync(new Dictionary<string, string>
    {
        ["RateLimiting:ConcurrentBatches"] = "1",
        ["RateLimiting:QueuedBatches"] = "0",
        ["RateLimiting:QueuedBatchesPerOrganisation"] = "0",
    });

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}

public sealed class when_batches_queue_up(AppFixture app, OneBatchAtATimeInstance instance) : ApiTest(app), IClassFixture<OneBatchAtATimeInstance>
{
    // Without the limiter the second batch would wait on the held lock too: the timeout turns that hang into a failure.
    [Fact(Timeout = 60_000)]
    public async Task a_batch_past_the_queue_gets_429_problem_and_the_batch_in_progress_still_counts()
    {
        var cancel = TestContext.Current.CancellationToken;
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES");

        // Hold the usage stream's lock from outside, so the first batch is certainly still in progress.
        await using var blocker = new NpgsqlConnection(AppFixture.ConnectionString);
        await blocker.OpenAsync(cancel);
        await using var transaction = await blocker.BeginTransactionAsync(cancel);
        await using (var lockStream = new NpgsqlCommand(
            $"select id from {AppFixture.Schema}.mt_streams where id like 'acme:AI_MESSAGES:%' for update", blocker, transaction))
            (await lockStream.ExecuteScalarAsync(cancel)).ShouldNotBeNull();

        var first = instance.Host.Scenario(x => Batch(x, "first", 200));
        await Eventually.WaitUntilBlockedByAsync(blocker.ProcessID);

        var refused = await instance.Host.Scenario(x => Batch(x, "second", 429));
        var problem = await ProblemOf(refused, 429);
        problem["detail"]!.ToString().ShouldContain("batches are already waiting on this instance");
        refused.Context.Response.Headers.RetryAfter.ToString().ShouldBe("1");

        await transaction.RollbackAsync(cancel);
        var recorded = await BodyOf(await first);
        ((int)recorded["recorded"]!).ShouldBe(1);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }

    private void Batch(Scenario x, string key, int status)
    {
        x.Post.Json(new { events = new[] { new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = key } } })
            .ToUrl("/api/v1/usage/events:batch");
        x.WithBearerToken(TokenFor("acme"));
        x.StatusCodeShouldBe(status);
    }
}
