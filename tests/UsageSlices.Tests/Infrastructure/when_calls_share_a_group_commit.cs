using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;
using Wolverine;

namespace UsageSlices.Tests.Infrastructure;

/// <summary>
/// Concurrent single calls are recorded together (UsageGroupCommit). Which calls share a group depends on timing,
/// so most of these tests hand a group to its handler directly, as the group commit does, to pin down its rules.
/// </summary>
public sealed class when_calls_share_a_group_commit(AppFixture app) : ApiTest(app)
{
    private static TrackUsage Call(string orgId, long quantity = 1, bool enforce = false, string? key = null) =>
        new(orgId, "AI_MESSAGES", quantity, key, null, null, enforce, null);

    private async Task<RecordUsageGroupReply> RecordAsync(params TrackUsage[] calls)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync<RecordUsageGroupReply>(new RecordUsageGroup(calls), Cancel);
    }

    [Fact]
    public async Task each_call_is_decided_in_order_on_the_count_its_predecessors_left()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 47);

        var recorded = await RecordAsync([.. Enumerable.Range(0, 5).Select(_ => Call("acme", enforce: true))]);

        recorded.Outcomes.Select(outcome => outcome.Value?.Used).ShouldBe([48, 49, 50, null, null]);
        recorded.Outcomes.Select(outcome => outcome.Refusal?.Kind).ShouldBe([null, null, null, RefusalKind.LimitReached, RefusalKind.LimitReached]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(50);
    }

    [Fact]
    public async Task the_group_is_one_transaction()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");

        var recorded = await RecordAsync(Call("acme"), Call("globex", 2), Call("acme", 3));

        recorded.Outcomes.ShouldAllBe(outcome => outcome.Refusal == null);
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
        recorded.Outcomes[1].Refusal!.Kind.ShouldBe(RefusalKind.NotFound);
        recorded.Outcomes[2].Value!.ShouldBe(recorded.Outcomes[0].Value! with { Duplicate = true });
        recorded.Outcomes[3].Refusal!.Kind.ShouldBe(RefusalKind.Conflict);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }

    /// <summary>
    /// Both group writers are held on a stream lock the test takes, so the calls sent next queue up and form one
    /// group when it is released. PostgreSQL refuses one of them (a trigger plays a row it cannot take): that call
    /// alone fails, and its neighbours are recorded.
    /// </summary>
    [Fact]
    public async Task a_call_that_fails_at_the_database_fails_alone_and_its_group_is_recorded()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");
        await RegisterAsync("poison");
        await TrackAsync("acme", "AI_MESSAGES");
        await using var database = new NpgsqlConnection(AppFixture.ConnectionString);
        await database.OpenAsync(Cancel);
        await ExecuteAsync(database, $"""
            create or replace function {AppFixture.Schema}.refuse_poison() returns trigger language plpgsql as
            $$ begin if new.stream_id like 'poison:%' then raise exception 'this row is refused'; end if; return new; end $$;
            create trigger refuse_poison before insert on {AppFixture.Schema}.mt_events for each row execute function {AppFixture.Schema}.refuse_poison();
            """);
        try
        {
            await using var holder = await database.BeginTransactionAsync(Cancel);
            await ExecuteAsync(database, $"select 1 from {AppFixture.Schema}.mt_streams where id like 'acme:AI_MESSAGES:%' for update");
            // One at a time, so that each of the two writers takes one and waits on the lock.
            var first = PostAsync("acme");
            await Eventually.WaitUntilBlockedByAsync(database.ProcessID, waiters: 1);
            var second = PostAsync("acme");
            await Eventually.WaitUntilBlockedByAsync(database.ProcessID, waiters: 2);

            var grouped = new[] { PostAsync("globex"), PostAsync("poison"), PostAsync("globex"), PostAsync("globex") };
            await Eventually.WaitUntilAsync(() => Host.Services.GetRequiredService<UsageGroupCommit>().Waiting == grouped.Length, "The calls never queued for one group.");
            await holder.CommitAsync(Cancel);

            (await Task.WhenAll(first, second)).ShouldAllBe(status => status == HttpStatusCode.OK);
            (await Task.WhenAll(grouped)).ShouldBe([HttpStatusCode.OK, HttpStatusCode.InternalServerError, HttpStatusCode.OK, HttpStatusCode.OK]);
        }
        finally
        {
            await ExecuteAsync(database, $"drop trigger refuse_poison on {AppFixture.Schema}.mt_events; drop function {AppFixture.Schema}.refuse_poison();");
        }

        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(3);
        (await UsedAsync("globex", "AI_MESSAGES")).ShouldBe(3);
        (await UsedAsync("poison", "AI_MESSAGES")).ShouldBe(0);
    }

    private async Task<HttpStatusCode> PostAsync(string orgId)
    {
        using var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TokenFor(orgId));
        using var response = await client.PostAsJsonAsync($"/api/v1/usage/{orgId}/track", new { feature = "AI_MESSAGES" }, Cancel);
        return response.StatusCode;
    }

    private static async Task ExecuteAsync(NpgsqlConnection database, string sql)
    {
        await using var command = new NpgsqlCommand(sql, database);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
