using System.Threading.Channels;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using Wolverine;

namespace UsageSlices.Infrastructure;

/// <summary>Single track calls that arrived together, to be recorded in one transaction.</summary>
public sealed record RecordUsageGroup(IReadOnlyList<TrackUsage> Calls);

/// <summary>Each call's outcome, in the order of the group's calls.</summary>
public sealed record RecordUsageGroupReply(IReadOnlyList<Outcome<TrackUsageReply>> Outcomes);

public static class RecordUsageGroupHandler
{
    /// <summary>Wolverine's transactional middleware commits the session; its write-conflict policy retries the whole group.</summary>
    public static async Task<RecordUsageGroupReply> Handle(
        RecordUsageGroup group, IDocumentSession session, CatalogCache catalogs, TimeProvider time, CancellationToken cancellation) =>
        new(await UsageLedger.RecordAsync(session, catalogs, group.Calls, time.GetUtcNow(), cancellation));
}

/// <summary>
/// Group commit for single track calls, which the track endpoint calls directly. While a transaction commits, the
/// calls that arrive queue here, and the next transaction takes all of them (up to <see cref="MaxGroupSize"/>):
/// one bus hop, one lock round trip, one commit and one WAL flush for the group instead of one each. Each caller is
/// answered only after its group has committed, and each call is decided by the ledger on its own, in arrival
/// order, exactly as if it were alone. A call that arrives when no transaction is running starts one at once:
/// nobody waits for company. With shards, each has a queue of its own: a group is one transaction in one database,
/// and a shard that is slow or down holds up only its own organisations' calls.
/// </summary>
public sealed class UsageGroupCommit(IServiceScopeFactory scopes, DatabaseSettings database, Placements placements) : BackgroundService
{
    public const int MaxGroupSize = 256;

    /// <summary>Two groups in flight in each shard, so that one is decided while the other waits on PostgreSQL.</summary>
    private const int Writers = 2;

    private sealed record Pending(TrackUsage Call, TaskCompletionSource<Outcome<TrackUsageReply>> Answer, CancellationToken Cancellation);

    private readonly IReadOnlyDictionary<string, Channel<Pending>> queues =
        database.Shards.ToDictionary(shard => shard.Name, _ => Channel.CreateUnbounded<Pending>());

    /// <summary>Calls waiting for a group to form (for tests that need several calls in one group).</summary>
    internal int Waiting => queues.Values.Sum(queue => queue.Reader.Count);

    public async Task<Outcome<TrackUsageReply>> TrackAsync(TrackUsage call, CancellationToken cancellation)
    {
        var answer = new TaskCompletionSource<Outcome<TrackUsageReply>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = queues[await placements.ShardOfAsync(call.OrgId, cancellation)];
        if (!queue.Writer.TryWrite(new Pending(call, answer, cancellation)))
            return Refusal.Unavailable("This instance is shutting down; retry the call (on another instance).");
        return await answer.Task.WaitAsync(cancellation);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // Calls already queued are still recorded and answered; new ones are refused.
        foreach (var queue in queues.Values)
            queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(queues.SelectMany(queue => Enumerable.Range(0, Writers)
            .Select(_ => Task.Run(() => WriteGroupsAsync(queue.Key, queue.Value.Reader), CancellationToken.None))));

    private async Task WriteGroupsAsync(string shard, ChannelReader<Pending> queue)
    {
        var group = new List<Pending>(MaxGroupSize);
        while (await queue.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroupSize && queue.TryRead(out var pending))
            {
                // A caller that gave up (its client went away) before its group formed is not recorded: the client
                // saw no answer and may retry, which would otherwise count twice when the call has no key.
                if (pending.Cancellation.IsCancellationRequested)
                    pending.Answer.TrySetCanceled(pending.Cancellation);
                else
                    group.Add(pending);
            }

            if (group.Count > 0)
                await RecordAsync(shard, group);
        }
    }

    /// <summary>
    /// Records a group and answers its callers. When its transaction fails (nothing of it was recorded) for a reason
    /// that may belong to one call — a row PostgreSQL refuses, a write race that outlasted its retries — each call is
    /// recorded again on its own, so the failure reaches only the call it belongs to. A database that cannot be
    /// reached fails every call alike, so that is answered at once.
    /// </summary>
    private async Task RecordAsync(string shard, IReadOnlyList<Pending> group)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            var reply = await placements.InvokeInShardAsync<RecordUsageGroupReply>(
                bus, shard, new RecordUsageGroup([.. group.Select(pending => pending.Call)]), CancellationToken.None);
            for (var index = 0; index < group.Count; index++)
            {
                // Counted once the group's transaction is through: a retried group decides its calls again.
                if (reply.Outcomes[index].Refusal is LimitReached refused)
                    UsageMetrics.EnforceRejected(refused);
                group[index].Answer.TrySetResult(reply.Outcomes[index]);
            }
        }
        catch (Exception exception) when (group.Count > 1 && !ProblemHandling.IsDatabaseUnavailable(exception))
        {
            foreach (var pending in group)
                await RecordAsync(shard, [pending]);
        }
        catch (Exception exception)
        {
            foreach (var pending in group)
                pending.Answer.TrySetException(exception);
        }
    }
}
