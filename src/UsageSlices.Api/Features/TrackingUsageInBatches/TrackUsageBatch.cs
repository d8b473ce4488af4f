using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Mvc;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsageInBatches;

public sealed record BatchEventBody(
    string? OrgId,
    string? Feature,
    long Quantity = 1,
    string? IdempotencyKey = null,
    DateTimeOffset? OccurredAt = null,
    Dictionary<string, string>? Properties = null);

public sealed record TrackUsageBatchBody(List<BatchEventBody>? Events);

/// <summary>Who sends a batch: an admin may track for any organisation, anyone else only for their own.</summary>
public sealed record Caller(string? OrgId, bool IsAdmin)
{
    public bool MayActFor(string orgId) => IsAdmin || OrgId == orgId;
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

/// <summary>The outcome of one event of a batch: its result as a single track call would give it, or its problem.</summary>
public sealed record BatchEventResult(int Index, BatchEventStatus Status, TrackUsageResponse? Result, ProblemDetails? Problem);

public sealed record TrackUsageBatchResponse(int Recorded, int Duplicates, int Rejected, IReadOnlyList<BatchEventResult> Results);

public static class TrackUsageBatchHandler
{
    public static async Task<Outcome<TrackUsageBatchResponse>> Handle(
        TrackUsageBatch batch, IDocumentSession session, IValidator<TrackUsage> validator, TimeProvider time, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var results = new BatchEventResult?[batch.Events.Count];
        var accepted = new List<(int Index, TrackUsage Event)>();
        for (var index = 0; index < batch.Events.Count; index++)
        {
            var evt = batch.Events[index];
            var shape = await validator.ValidateAsync(evt, cancellation);
            results[index] = !shape.IsValid ? Rejected(index, Problems.Invalid(shape.ToDictionary()))
                : evt.Key is null ? Rejected(index, Problems.Invalid("idempotencyKey", "Every event of a batch needs an idempotency key."))
                : !batch.Caller.MayActFor(evt.OrgId) ? Rejected(index, Problems.Forbidden($"The token may not track usage for organisation '{evt.OrgId}'."))
                : null;
            if (results[index] is null)
                accepted.Add((index, evt));
        }

        var outcomes = await UsageRecorder.RecordAsync(session, accepted.Select(a => a.Event).ToList(), now, cancellation);
        foreach (var ((index, _), outcome) in accepted.Zip(outcomes))
        {
            results[index] = outcome.Problem is { } problem ? Rejected(index, problem)
                : new BatchEventResult(index, outcome.Value!.Duplicate ? BatchEventStatus.Duplicate : BatchEventStatus.Recorded, outcome.Value, null);
        }

        var all = results.Select(result => result!).ToList();
        return new TrackUsageBatchResponse(
            all.Count(r => r.Status == BatchEventStatus.Recorded),
            all.Count(r => r.Status == BatchEventStatus.Duplicate),
            all.Count(r => r.Status == BatchEventStatus.Rejected),
            all);
    }

    private static BatchEventResult Rejected(int index, ProblemDetails problem) => new(index, BatchEventStatus.Rejected, null, problem);
}

public static class TrackUsageBatchEndpoint
{
    public static void MapTrackUsageBatch(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/events:batch", (TrackUsageBatchBody body, HttpContext http) =>
                http.Send<TrackUsageBatch, TrackUsageBatchResponse>(new TrackUsageBatch(
                    (body.Events ?? []).Select(e => new TrackUsage(
                        e.OrgId ?? "", e.Feature ?? "", e.Quantity, e.IdempotencyKey, null, e.OccurredAt, Enforce: false, e.Properties)).ToList(),
                    new Caller(http.User.FindFirst(Claims.OrgId)?.Value, http.User.HasScope(Scopes.Admin)))))
            .RequireAuthorization(Scopes.Write)
            .RequireRateLimiting(RateLimiting.Batches)
            .WithMetadata(new RequestSizeLimitAttribute(RequestLimits.MaxBatchBodyBytes))
            .Produces<TrackUsageBatchResponse>().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("TrackUsageBatch")
            .WithSummary("Record up to 1,000 usage events (record mode, each with its idempotency key) in one transaction; a result per event.");
}
