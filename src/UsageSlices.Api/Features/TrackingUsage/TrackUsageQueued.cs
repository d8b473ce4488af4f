using FluentValidation;
using Marten;
using UsageSlices.Infrastructure;
using Wolverine.ErrorHandling;
using Wolverine.Runtime.Handlers;

namespace UsageSlices.Features.TrackingUsage;

/// <summary>Queue a track call to be counted asynchronously (<c>Prefer: respond-async</c>).</summary>
public sealed record QueueTrackUsage(TrackUsage Command)
{
    public sealed class Validator : AbstractValidator<QueueTrackUsage>
    {
        public Validator(IValidator<TrackUsage> track)
        {
            // The same shape rules as a synchronous call, reported under the same field names.
            RuleFor(x => x.Command).SetValidator(track).OverridePropertyName(string.Empty);
            RuleFor(x => x.Command.Enforce).Equal(false).OverridePropertyName("enforce")
                .WithMessage("Enforce mode answers whether the usage was admitted, so it cannot be answered asynchronously.");
        }
    }
}

/// <summary>
/// A track call answered 202 (<c>Prefer: respond-async</c>): durably queued in PostgreSQL by Wolverine, then handled
/// by the same rules as a synchronous call. It always carries an idempotency key, so a redelivery after a crash
/// is a duplicate, not a second count.
/// </summary>
public sealed record TrackUsageQueued(TrackUsage Command);

/// <summary>What a 202 says: the call is durably queued and will be counted once.</summary>
public sealed record TrackUsageAccepted(string OrgId, string Feature, long Quantity, string IdempotencyKey, DateTimeOffset AcceptedAt);

public static class QueueTrackUsageHandler
{
    /// <summary>
    /// Refuses at once what could never be counted (unknown organisation or feature), then cascades the message,
    /// which Wolverine writes to PostgreSQL in this handler's transaction before the caller gets its 202.
    /// A call without an idempotency key is given one, so that a redelivery after a crash counts once.
    /// </summary>
    public static async Task<(Outcome<TrackUsageAccepted>, TrackUsageQueued?)> Handle(
        QueueTrackUsage message, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var command = message.Command;
        var (organisation, feature, _) = await session.LoadUsageTargetAsync(command.OrgId, command.Feature, cancellation);
        if (!TrackUsageRules.CanTrack(command, organisation, feature, out var refusal))
            return (refusal, null);

        var now = time.GetUtcNow();
        var queued = command.Key is null ? command with { IdempotencyKey = $"async-{Guid.CreateVersion7(now)}" } : command;
        return (new TrackUsageAccepted(queued.OrgId, queued.Feature, queued.Quantity, queued.Key!, now), new TrackUsageQueued(queued));
    }
}

public static class TrackUsageQueuedHandler
{
    public const string LocalQueue = "usage-tracking";

    /// <summary>
    /// Write conflicts are retried at once by the global policy; anything else (the database down) is retried later,
    /// indefinitely, so an acknowledged event is never dropped. Each failure is logged for the runbook's watchers.
    /// </summary>
    public static void Configure(HandlerChain chain) =>
        chain.OnException(exception => !Persistence.IsWriteConflict(exception))
            .ScheduleRetryIndefinitely(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2))
            .And((runtime, lifecycle, exception) =>
            {
                if (lifecycle.Envelope?.Message is TrackUsageQueued queued)
                {
                    UsageMetrics.TrackingFailed(queued.Command.Feature);
                    runtime.LoggerFactory.CreateLogger(typeof(TrackUsageQueuedHandler)).LogWarning(exception,
                        "Failed to track usage of {Feature} for {OrgId} (key {IdempotencyKey}, attempt {Attempt}); it will be retried",
                        queued.Command.Feature, queued.Command.OrgId, queued.Command.Key, lifecycle.Envelope.Attempts);
                }

                return ValueTask.CompletedTask;
            }, "Log 'Failed to track usage' as a warning");

    public static async Task Handle(
        TrackUsageQueued message, IDocumentSession session, TimeProvider time, ILogger<TrackUsageQueued> logger, CancellationToken cancellation)
    {
        // In this handler's own transaction, where Wolverine also marks the message handled.
        var outcome = (await UsageRecorder.RecordAsync(session, [message.Command], time.GetUtcNow(), cancellation))[0];
        if (outcome.Problem is { } problem)
        {
            UsageMetrics.TrackingFailed(message.Command.Feature);
            logger.LogWarning(
                "Failed to track usage of {Feature} for {OrgId} (key {IdempotencyKey}): {Status} {Detail}",
                message.Command.Feature, message.Command.OrgId, message.Command.Key, problem.Status, problem.Detail);
        }
    }
}
