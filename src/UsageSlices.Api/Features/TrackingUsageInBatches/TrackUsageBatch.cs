using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Mvc;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.TrackingUsageInBatches;

public sealed record BatchEventBody(
    string? OrgId,
    string? Feature,
    long Quantity = 1,
    string? IdempotencyKey = null,
    DateTimeOffset? OccurredAt = null,
    Dictionary<string, string>? Properties = null);

public sealed record TrackUsageBatchBody(List<BatchEventBody>? Events) : IHasExample
{
    public static object Example => new
    {
        events = new[]
        {
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "m-1" },
            new { orgId = "acme", feature = "DOCUMENT_SCANS", quantity = 1, idempotencyKey = "s-1" },
        },
    };
}

/// <summary>Up to <see cref="MaxEvents"/> record-mode track calls, each idempotent, recorded in one transaction.</summary>
public sealed record TrackUsageBatch(IReadOnlyList<TrackUsage> Events, Caller Caller)
{
    public const int MaxEvents = 1_000;

    public sealed class Validator : AbstractValidator<TrackUsageBatch>
    {
        public Validator() =>
            RuleFor(x => x.Events).NotEmpty().Must(events => events.Count <= MaxEvents)
                .WithMessage($"A batch holds 1 to {MaxEvents:N0} events.");
    }
}

public enum BatchEventStatus
{
    Recorded,
    Duplicate,
    Rejected,
}

/// <summary>The outcome of one event of a batch: its reply as a single track call would give it, or its refusal.</summary>
public sealed record BatchEventOutcome(int Index, Outcome<TrackUsageReply> Outcome);

public sealed record TrackUsageBatchReply(IReadOnlyList<BatchEventOutcome> Events);

public static class TrackUsageBatchHandler
{
    /// <summary>
    /// Each event is judged on its own, by the same rules as a single call (its shape, then whom the caller may act
    /// for), and the ones that pass are recorded together by the ledger.
    /// </summary>
    public static async Task<Outcome<TrackUsageBatchReply>> Handle(
        TrackUsageBatch batch, IDocumentSession session, CatalogCache catalogs, IValidator<TrackUsage> validator, TimeProvider time,
        CancellationToken cancellation)
    {
        var outcomes = new Outcome<TrackUsageReply>?[batch.Events.Count];
        var accepted = new List<(int Index, TrackUsage Event)>();
        for (var index = 0; index < batch.Events.Count; index++)
        {
            var evt = batch.Events[index];
            var refusal = await validator.RefuseAsync(evt, cancellation)
                ?? (evt.Key is null ? Refusal.Invalid("idempotencyKey", "Every event of a batch needs an idempotency key.") : null)
                ?? (!batch.Caller.MayActFor(evt.OrgId) ? Refusal.Forbidden($"The token may not track usage for organisation '{evt.OrgId}'.") : null);
            if (refusal is null)
                accepted.Add((index, evt));
            else
                outcomes[index] = refusal;
        }

        var recorded = await UsageLedger.RecordAsync(session, catalogs, [.. accepted.Select(a => a.Event)], time.GetUtcNow(), cancellation);
        foreach (var ((index, _), outcome) in accepted.Zip(recorded))
            outcomes[index] = outcome;

        return new TrackUsageBatchReply([.. outcomes.Select((outcome, index) => new BatchEventOutcome(index, outcome!))]);
    }

    /// <summary>
    /// With shards, a batch is split by the shard of each event's organisation and each part is recorded by
    /// <see cref="Handle"/> in its own shard, the parts at once: a transaction per shard, results in the request's order.
    /// A shard that cannot be reached answers 503 for its own events only; sent again with the same keys, each still
    /// counts once, because its key is recorded in its organisation's shard.
    /// </summary>
    public static async Task<Outcome<TrackUsageBatchReply>> SendToShardsAsync(
        TrackUsageBatch batch, IServiceScopeFactory scopes, Placements placements, CancellationToken cancellation)
    {
        var parts = new Dictionary<string, List<int>>();
        for (var index = 0; index < batch.Events.Count; index++)
        {
            var shard = await placements.ShardOfAsync(batch.Events[index].OrgId, cancellation);
            (parts.TryGetValue(shard, out var indices) ? indices : parts[shard] = []).Add(index);
        }

        var outcomes = new Outcome<TrackUsageReply>[batch.Events.Count];
        await Task.WhenAll(parts.Select(async part =>
        {
            var (shard, indices) = (part.Key, part.Value);
            try
            {
                // A scope, and so a message context, for each part: the parts run at the same time.
                await using var scope = scopes.CreateAsyncScope();
                var reply = await placements.InvokeInShardAsync<Outcome<TrackUsageBatchReply>>(
                    scope.ServiceProvider.GetRequiredService<IMessageBus>(), shard,
                    batch with { Events = [.. indices.Select(index => batch.Events[index])] }, cancellation);
                foreach (var evt in reply.Value!.Events)
                    outcomes[indices[evt.Index]] = evt.Outcome;
            }
            catch (Exception exception) when (ProblemHandling.IsDatabaseUnavailable(exception) && !cancellation.IsCancellationRequested)
            {
                foreach (var index in indices)
                    outcomes[index] = Refusal.Unavailable($"Shard '{shard}' cannot be reached; send this event again with the same idempotency key.");
            }
        }));
        return new TrackUsageBatchReply([.. outcomes.Select((outcome, index) => new BatchEventOutcome(index, outcome))]);
    }
}

/// <summary>One event's result as the API shows it: the reply of a single call, or its problem.</summary>
public sealed record BatchEventResult(int Index, BatchEventStatus Status, TrackUsageReply? Result, ProblemDetails? Problem);

public sealed record TrackUsageBatchResponse(int Recorded, int Duplicates, int Rejected, IReadOnlyList<BatchEventResult> Results)
{
    public static TrackUsageBatchResponse Of(TrackUsageBatchReply reply)
    {
        var results = reply.Events.Select(e => e.Outcome.Refusal is { } refusal
                ? new BatchEventResult(e.Index, BatchEventStatus.Rejected, null, refusal.ToProblem())
                : new BatchEventResult(e.Index, e.Outcome.Value!.Duplicate ? BatchEventStatus.Duplicate : BatchEventStatus.Recorded, e.Outcome.Value, null))
            .ToList();
        return new TrackUsageBatchResponse(
            results.Count(r => r.Status == BatchEventStatus.Recorded),
            results.Count(r => r.Status == BatchEventStatus.Duplicate),
            results.Count(r => r.Status == BatchEventStatus.Rejected),
            results);
    }
}

public static class TrackUsageBatchEndpoint
{
    public static void MapTrackUsageBatch(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/events:batch", async (TrackUsageBatchBody body, HttpContext http, BatchSlots slots, Placements placements, IServiceScopeFactory scopes) =>
            {
                // The body is read by now: a slot is held only while the batch is recorded, never while it uploads.
                using var slot = await slots.AcquireAsync(http.Caller(), http.RequestAborted);
                if (!slot.IsAcquired)
                    return BatchSlots.Refused(http);
                return await http.Send<TrackUsageBatch, TrackUsageBatchReply>(
                    new TrackUsageBatch(
                        [.. (body.Events ?? []).Select(e => new TrackUsage(
                            e.OrgId ?? "", e.Feature ?? "", e.Quantity, e.IdempotencyKey, null, e.OccurredAt, Enforce: false, e.Properties))],
                        http.Caller()),
                    (batch, cancellation) => placements.Sharded
                        ? TrackUsageBatchHandler.SendToShardsAsync(batch, scopes, placements, cancellation)
                        : http.RequestServices.InvokeHandlerAsync<TrackUsageBatch, TrackUsageBatchReply>(batch, cancellation),
                    reply => TypedResults.Ok(TrackUsageBatchResponse.Of(reply)));
            })
            .ActsForOrganisationsInBody(Scopes.Write)
            .WithMetadata(new RequestSizeLimitAttribute(RequestLimits.MaxBatchBodyBytes), new MinimumBodyRate())
            .Produces<TrackUsageBatchResponse>().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("TrackUsageBatch")
            .WithSummary("Record up to 1,000 usage events (record mode, each with its idempotency key) in one transaction; a result per event.");
}
