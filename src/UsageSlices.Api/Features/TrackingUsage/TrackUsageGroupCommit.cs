using System.Threading.Channels;
using Marten;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.TrackingUsage;

/// <summary>Single track calls that arrived together, recorded in one transaction.</summary>
public sealed record TrackUsageGroup(IReadOnlyList<TrackUsage> Calls);

/// <summary>Each call's outcome, in the order of the group's calls.</summary>
public sealed record TrackUsageGroupRecorded(IReadOnlyList<Outcome<TrackUsageResponse>> Outcomes);

public static class TrackUsageGroupHandler
{
    public static async Task<TrackUsageGroupRecorded> Handle(
        TrackUsageGroup group, IDocumentSession session, TimeProvider time, CancellationToken cancellation) =>
        new(await UsageRecorder.RecordAsync(session, group.Calls, time.GetUtcNow(), cancellation));
}

/// <summary>
/// Group commit for single track calls. While a transaction commits, the calls that arrive queue here, and the next
/// transaction takes all of them (up to <see cref="MaxGroupSize"/>): one lock round trip, one commit and one WAL
/// flush for the group instead of one each. Each caller is answered only after its group has committed, and each
/// call is decided on its own, in arrival order, exactly as if it were alone. A call that arrives when no
/// transaction is running starts one at once: nobody waits for company.
/// </summary>
public sealed class TrackUsageGroupCommit(IServiceScopeFactory scopes) : BackgroundService
{
    public const int MaxGroupSize = 256;

    /// <summary>Two groups in flight, so that one is decided while the other waits on PostgreSQL.</summary>
    private const int Writers = 2;

    private sealed record Pending(TrackUsage Call, TaskCompletionSource<Outcome<TrackUsageResponse>> Answer, CancellationToken Cancellation);

    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>();

    public async Task<Outcome<TrackUsageResponse>> TrackAsync(TrackUsage call, CancellationToken cancellation)
    {
        var answer = new TaskCompletionSource<Outcome<TrackUsageResponse>>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite(new Pending(call, answer, cancellation)))
            return Problems.Unavailable("This instance is shutting down; retry the call (on another instance).");
        return await answer.Task.WaitAsync(cancellation);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // Calls already queued are still recorded and answered; new ones are refused.
        queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteGroupsAsync, CancellationToken.None)));

    private static void CountRejection(Outcome<TrackUsageResponse> outcome)
    {
        if (outcome.Problem is { Status: StatusCodes.Status402PaymentRequired, Extensions: var numbers }
            && numbers["feature"] is string feature && numbers["reason"] is string reason)
            UsageMetrics.EnforceRejected(feature, reason);
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<Pending>(MaxGroupSize);
        while (await queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroupSize && queue.Reader.TryRead(out var pending))
            {
                // A caller that gave up (its client went away) before its group formed is not recorded: the client
                // saw no answer and may retry, which would otherwise count twice when the call has no key.
                if (pending.Cancellation.IsCancellationRequested)
                    pending.Answer.TrySetCanceled(pending.Cancellation);
                else
                    group.Add(pending);
            }

            if (group.Count == 0)
                continue;

            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var recorded = await scope.ServiceProvider.GetRequiredService<IMessageBus>()
                    .InvokeAsync<TrackUsageGroupRecorded>(new TrackUsageGroup(group.ConvertAll(pending => pending.Call)));
                for (var index = 0; index < group.Count; index++)
                {
                    // Counted once the group's transaction is through: a retried group decides its calls again.
                    CountRejection(recorded.Outcomes[index]);
                    group[index].Answer.TrySetResult(recorded.Outcomes[index]);
                }
            }
            catch (Exception exception)
            {
                // The transaction failed as a whole (the database, or a write race that outlasted its retries):
                // nothing of the group was recorded, and every caller gets the failure to map or retry.
                foreach (var pending in group)
                    pending.Answer.TrySetException(exception);
            }
        }
    }
}
