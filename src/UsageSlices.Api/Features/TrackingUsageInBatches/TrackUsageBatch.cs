using FluentValidation;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Mvc;
using UsageSlices.Domain;
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

        var organisations = (await session.LoadManyAsync<Organisation>(cancellation, accepted.Select(a => a.Event.OrgId).Distinct()))
            .ToDictionary(o => o.Id);
        var features = (await session.Query<UsageFeature>().ToListAsync(cancellation)).ToDictionary(f => f.Code);
        var tiers = (await session.LoadManyAsync<SubscriptionTier>(cancellation, organisations.Values.Select(o => o.Tier).Distinct()))
            .ToDictionary(t => t.Code);

        var writes = new List<(int Index, TrackUsage Event, Organisation Organisation, UsageFeature Feature, Period? Period, string Stream)>();
        foreach (var (index, evt) in accepted)
        {
            var organisation = organisations.GetValueOrDefault(evt.OrgId);
            var feature = features.GetValueOrDefault(evt.Feature);
            if (!TrackUsageRules.CanTrack(evt, organisation, feature, out var refusal))
            {
                results[index] = Rejected(index, refusal);
                continue;
            }

            var period = Periods.For(feature, evt.OccurredAt ?? now, organisation.BillingAnchorDay);
            writes.Add((index, evt, organisation, feature, period, UsageCounter.KeyFor(organisation.Id, feature, period)));
        }

        // Locks are taken in key order so that two batches touching the same streams cannot deadlock.
        var streams = new Dictionary<string, IEventStream<UsageCounter>>();
        var used = new Dictionary<string, long>();
        foreach (var key in writes.Select(w => w.Stream).Distinct().Order(StringComparer.Ordinal))
        {
            streams[key] = await session.Events.FetchForExclusiveWriting<UsageCounter>(key, cancellation);
            used[key] = streams[key].Aggregate?.Used ?? 0;
        }

        // Read after the locks, like a single track call, so a batch that waited sees the keys the others wrote.
        var firsts = (await session.LoadManyAsync<IdempotencyRecord>(
                cancellation, writes.Select(w => IdempotencyRecord.KeyFor(w.Organisation.Id, w.Event.Key!)).Distinct()))
            .ToDictionary(r => r.Id);

        foreach (var write in writes)
        {
            var firstKey = IdempotencyRecord.KeyFor(write.Organisation.Id, write.Event.Key!);
            var decision = TrackUsageRules.Decide(
                write.Event, write.Organisation, write.Feature, TierLimit.In(tiers.GetValueOrDefault(write.Organisation.Tier), write.Feature),
                write.Period, used[write.Stream], firsts.GetValueOrDefault(firstKey), now);
            if (decision.Problem is { } problem)
            {
                results[write.Index] = Rejected(write.Index, problem);
                continue;
            }

            var (response, recorded, record) = decision.Value!;
            if (recorded is not null)
            {
                streams[write.Stream].AppendOne(recorded);
                used[write.Stream] = response.Used;
            }

            if (record is not null)
            {
                session.Insert(record);
                firsts[record.Id] = record;
            }

            results[write.Index] = new BatchEventResult(
                write.Index, recorded is null ? BatchEventStatus.Duplicate : BatchEventStatus.Recorded, response, null);
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
            .WithMetadata(new RequestSizeLimitAttribute(RequestLimits.MaxBatchBodyBytes))
            .Produces<TrackUsageBatchResponse>().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("TrackUsageBatch")
            .WithSummary("Record up to 1,000 usage events (record mode, each with its idempotency key) in one transaction; a result per event.");
}
