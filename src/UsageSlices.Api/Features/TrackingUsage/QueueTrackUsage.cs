using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;
using Wolverine;
using Wolverine.Attributes;
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

/// <summary>What a 202 says: the call is durably queued and will be counted once.</summary>
public sealed record QueueTrackUsageReply(string OrgId, string Feature, long Quantity, string IdempotencyKey, DateTimeOffset AcceptedAt);

/// <summary>
/// Record a call answered 202: durably queued in PostgreSQL by Wolverine, then recorded by the ledger like a
/// synchronous call. It always carries an idempotency key, so a redelivery after a crash is a duplicate, not a
/// second count. Its identity is the name it had before it was renamed, so that calls queued by an older
/// version are still recorded after an upgrade.
/// </summary>
[MessageIdentity("UsageSlices.Features.TrackingUsage.TrackUsageQueued")]
public sealed record RecordQueuedUsage(TrackUsage Command);

public static class QueueTrackUsageHandler
{
    /// <summary>The durable local queue that holds accepted calls until they are recorded.</summary>
    public const string LocalQueue = "usage-tracking";

    public static void RouteQueuedUsage(this WolverineOptions options) =>
        options.PublishMessage<RecordQueuedUsage>().ToLocalQueue(LocalQueue).UseDurableInbox();

    /// <summary>
    /// Refuses at once what could never be counted (unknown organisation or feature), then cascades the message,
    /// which Wolverine writes to PostgreSQL in this handler's transaction before the caller gets its 202.
    /// A call without an idempotency key is given one, so that a redelivery after a crash counts once.
    /// </summary>
    public static async Task<(Outcome<QueueTrackUsageReply>, RecordQueuedUsage?)> Handle(
        QueueTrackUsage message, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var command = message.Command;
        var (organisation, feature, _) = await session.LoadUsageTargetAsync(command.OrgId, command.Feature, cancellation);
        if (!UsageRules.CanTrack(command, organisation, feature, out var refusal))
            return (refusal, null);

        var now = time.GetUtcNow();
        var queued = command.Key is null ? command with { IdempotencyKey = $"async-{Guid.CreateVersion7(now)}" } : command;
        return (new QueueTrackUsageReply(queued.OrgId, queued.Feature, queued.Quantity, queued.Key!, now), new RecordQueuedUsage(queued));
    }
}

public static class RecordQueuedUsageHandler
{
    /// <summary>
    /// Write conflicts are retried at once by the global policy; anything else (the database down) is retried later,
    /// indefinitely, so an acknowledged event is never dropped. Each failure is logged for the runbook's watchers.
    /// </summary>
    public static void Configure(HandlerChain chain) =>
        chain.OnException(exception => !Persistence.IsWriteConflict(exception))
            .ScheduleRetryIndefinitely(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2))
            .And((runtime, lifecycle, exception) =>
            {
                if (lifecycle.Envelope?.Message is RecordQueuedUsage queued)
                {
                    UsageMetrics.TrackingFailed(queued.Command.Feature);
                    runtime.LoggerFactory.CreateLogger(typeof(RecordQueuedUsageHandler)).LogWarning(exception,
                        "Failed to track usage of {Feature} for {OrgId} (key {IdempotencyKey}, attempt {Attempt}); it will be retried",
                        queued.Command.Feature, queued.Command.OrgId, queued.Command.Key, lifecycle.Envelope.Attempts);
                }

                return ValueTask.CompletedTask;
            }, "Log 'Failed to track usage' as a warning");

    public static async Task Handle(
        RecordQueuedUsage message, IDocumentSession session, CatalogCache catalogs, TimeProvider time, ILogger<RecordQueuedUsage> logger,
        CancellationToken cancellation)
    {
        // In this handler's own transaction, where Wolverine also marks the message handled.
        var outcome = (await UsageLedger.RecordAsync(session, catalogs, [message.Command], time.GetUtcNow(), cancellation))[0];
        if (outcome.Refusal is { } refusal)
        {
            UsageMetrics.TrackingFailed(message.Command.Feature);
            logger.LogWarning(
                "Failed to track usage of {Feature} for {OrgId} (key {IdempotencyKey}): refused ({Refusal}) {Detail}",
                message.Command.Feature, message.Command.OrgId, message.Command.Key, refusal.Kind, refusal.Detail);
        }
    }
}
