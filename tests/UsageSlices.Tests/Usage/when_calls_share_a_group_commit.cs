using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Tests.Support;
using Wolverine;

namespace UsageSlices.Tests.Usage;

/// <summary>
/// Concurrent single calls are recorded together (TrackUsageGroupCommit). Which calls share a group depends on
/// timing, so these tests hand a group to its handler directly, as the group commit does, to pin down its rules.
/// </summary>
public sealed class when_calls_share_a_group_commit(AppFixture app) : ApiTest(app)
{
    private static TrackUsage Call(string orgId, long quantity = 1, bool enforce = false, string? key = null) =>
        new(orgId, "AI_MESSAGES", quantity, key, null, null, enforce, null);

    private async Task<TrackUsageGroupRecorded> RecordAsync(params TrackUsage[] calls)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync<TrackUsageGroupRecorded>(new TrackUsageGroup(calls), Cancel);
    }

    [Fact]
    public async Task each_call_is_decided_in_order_on_the_count_its_predecessors_left()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 47);

        var recorded = await RecordAsync([.. Enumerable.Range(0, 5).Select(_ => Call("acme", enforce: true))]);

        recorded.Outcomes.Select(outcome => outcome.Value?.Used).ShouldBe([48, 49, 50, null, null]);
        recorded.Outcomes.Select(outcome => outcome.Problem?.Status).ShouldBe([null, null, null, 402, 402]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(50);
    }

    [Fact]
    public async Task the_group_is_one_transaction()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");

        var recorded = await RecordAsync(Call("acme"), Call("globex", 2), Call("acme", 3));

        recorded.Outcomes.ShouldAllBe(outcome => outcome.Problem == null);
        // Rows written by one transaction carry its id in PostgreSQL's xmin system column.
        await using var session = Store.QuerySession();
        var transactions = await session.QueryAsync<long>(
            $"select count(distinct xmin::text) from {AppFixture.Schema}.mt_events where stream_id like 'acme:%' or stream_id like 'globex:%'", Cancel);
        transactions.Single().ShouldBe(1);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(4);
        (await UsedAsync("globex", "AI_MESSAGES")).ShouldBe(2);
    }

    [Fact]
    public async Task a_key_repeated_within_the_group_counts_once_and_a_refusal_spares_its_neighbours()
    {
        await RegisterAsync("acme");

        var recorded = await RecordAsync(Call("acme", 2, key: "k1"), Call("unknown-org"), Call("acme", 2, key: "k1"), Call("acme", 5, key: "k1"));

        recorded.Outcomes[0].Value!.Duplicate.ShouldBeFalse();
        recorded.Outcomes[1].Problem!.Status.ShouldBe(404);
        recorded.Outcomes[2].Value!.ShouldBe(recorded.Outcomes[0].Value! with { Duplicate = true });
        recorded.Outcomes[3].Problem!.Status.ShouldBe(409);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }
}
