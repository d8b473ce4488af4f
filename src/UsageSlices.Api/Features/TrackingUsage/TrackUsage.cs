using System.Diagnostics.CodeAnalysis;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsage;

/// <summary>The body of <c>POST /api/v1/usage/{orgId}/track</c>.</summary>
public sealed record TrackUsageBody(
    string? Feature,
    long Quantity = 1,
    string? IdempotencyKey = null,
    DateTimeOffset? OccurredAt = null,
    bool Enforce = false,
    Dictionary<string, string>? Properties = null);

/// <summary>Organisation <paramref name="OrgId"/> used <paramref name="Quantity"/> of <paramref name="Feature"/>.</summary>
/// <param name="IdempotencyKeyHeader">The <c>Idempotency-Key</c> header; when the body has a key too, both must agree.</param>
public sealed record TrackUsage(
    string OrgId,
    string Feature,
    long Quantity,
    string? IdempotencyKey,
    string? IdempotencyKeyHeader,
    DateTimeOffset? OccurredAt,
    bool Enforce,
    IReadOnlyDictionary<string, string>? Properties)
{
    public const int MaxProperties = 16;
    public const int MaxPropertyKeyLength = 64;
    public const int MaxPropertyValueLength = 256;

    public string? Key => IdempotencyKey ?? IdempotencyKeyHeader;

    public sealed class Validator : AbstractValidator<TrackUsage>
    {
        public Validator(TimeProvider time, IOptions<UsageSettings> settings)
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode();
            RuleFor(x => x.Quantity).NotEqual(0).InclusiveBetween(-ValidationRules.MaxQuantity, ValidationRules.MaxQuantity)
                .WithMessage($"The quantity is a whole number from -{ValidationRules.MaxQuantity:N0} to {ValidationRules.MaxQuantity:N0}, not 0 (negative only to release an allocation).");
            RuleFor(x => x.IdempotencyKey).MustBeIdempotencyKey().When(x => x.IdempotencyKey is not null);
            RuleFor(x => x.IdempotencyKeyHeader).MustBeIdempotencyKey().OverridePropertyName("Idempotency-Key")
                .When(x => x.IdempotencyKeyHeader is not null);
            RuleFor(x => x.IdempotencyKeyHeader).Equal(x => x.IdempotencyKey).OverridePropertyName("Idempotency-Key")
                .When(x => x.IdempotencyKey is not null && x.IdempotencyKeyHeader is not null)
                .WithMessage("The Idempotency-Key header and the body's idempotencyKey differ.");
            RuleFor(x => x.OccurredAt)
                .Must(at => at <= time.GetUtcNow() + UsageSettings.FutureTolerance)
                .WithMessage($"occurredAt may be at most {UsageSettings.FutureTolerance.TotalMinutes} minutes in the future.")
                .Must(at => at >= time.GetUtcNow() - settings.Value.LateEventWindow)
                .WithMessage($"occurredAt may be at most {settings.Value.LateEventWindow.TotalDays} days in the past (Usage:LateEventWindow).")
                .When(x => x.OccurredAt is not null);
            RuleFor(x => x.Properties).Must(properties => properties is null || properties.Count <= MaxProperties)
                .WithMessage($"At most {MaxProperties} properties.");
            RuleForEach(x => x.Properties)
                .Must(p => p.Key.Length is > 0 and <= MaxPropertyKeyLength && p.Value is { Length: <= MaxPropertyValueLength }
                    && ValidationRules.HasNoControlCharacters(p.Key) && ValidationRules.HasNoControlCharacters(p.Value))
                .WithMessage($"A property has a key of 1-{MaxPropertyKeyLength} characters and a string value of at most {MaxPropertyValueLength}, without control characters.")
                .OverridePropertyName("properties");
        }
    }
}

public sealed record TrackUsageResponse(
    string OrgId,
    string Feature,
    long Quantity,
    Guid EventId,
    bool Duplicate,
    long Used,
    long? Limit,
    long? Remaining,
    bool Unlimited,
    bool OverLimit,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd);

/// <summary>An idempotency key already used by an organisation, with the result of its first call; keyed <c>{orgId}:{key}</c>.</summary>
public sealed record IdempotencyRecord(string Id, string Feature, long Quantity, TrackUsageResponse Result)
{
    public static string KeyFor(string orgId, string key) => $"{orgId}:{key}";
}

/// <summary>What to do with one track call, decided on the stream's current count.</summary>
/// <param name="Recorded">The event to append, or <c>null</c> for a duplicate.</param>
/// <param name="Key">The idempotency record to insert with it, when the call carried a key.</param>
public sealed record TrackDecision(TrackUsageResponse Response, UsageRecorded? Recorded, IdempotencyRecord? Key);

/// <summary>The rules of a track call as pure functions, shared by the single, batch and async paths.</summary>
public static class TrackUsageRules
{
    /// <summary>Refusals that need only the organisation and the feature, checked before any lock is taken.</summary>
    public static bool CanTrack(
        TrackUsage command,
        [NotNullWhen(true)] Organisation? organisation,
        [NotNullWhen(true)] UsageFeature? feature,
        [NotNullWhen(false)] out ProblemDetails? refusal)
    {
        refusal = organisation is null ? Problems.NotFound($"Organisation '{command.OrgId}' is not registered.")
            : feature is null ? Problems.Invalid("feature", $"'{command.Feature}' is not a feature of the catalog.")
            : !feature.IsCounted ? Problems.Invalid("feature", $"{feature.Code} is a boolean feature: there is nothing to count.")
            : feature.Kind == FeatureKind.Metered && command.Quantity < 0
                ? Problems.Invalid("quantity", $"{feature.Code} is metered: only positive quantities can be tracked.")
            : null;
        return refusal is null;
    }

    /// <summary>A duplicate of <paramref name="first"/>, a refusal, or an event to record on top of <paramref name="used"/>.</summary>
    public static Outcome<TrackDecision> Decide(
        TrackUsage command, Organisation organisation, UsageFeature feature, TierLimit limit, Period? period,
        long used, IdempotencyRecord? first, DateTimeOffset now)
    {
        if (first is not null)
        {
            return first.Feature == feature.Code && first.Quantity == command.Quantity
                ? new TrackDecision(first.Result with { Duplicate = true }, null, null)
                : Problems.Conflict($"Idempotency key '{command.Key}' was first used for {first.Quantity} of {first.Feature}; a retry must send the same feature and quantity.");
        }

        if (feature.Kind == FeatureKind.Allocation && used + command.Quantity < 0)
            return Problems.Conflict($"Releasing {-command.Quantity} of {feature.Code} would take its usage below zero: {used} is allocated.");

        if (command.Enforce && UsageRules.RefusalReason(feature.Kind, limit, used, command.Quantity) is { } reason)
        {
            return Problems.PaymentRequired(
                $"{feature.Code}: {command.Quantity} more would exceed the {organisation.Tier} tier's limit of {limit.Max}; nothing was recorded.",
                new Dictionary<string, object?>
                {
                    ["orgId"] = organisation.Id,
                    ["feature"] = feature.Code,
                    ["reason"] = reason,
                    ["requested"] = command.Quantity,
                    ["used"] = used,
                    ["limit"] = limit.Max,
                    ["remaining"] = UsageRules.Remaining(limit, used),
                });
        }

        var recorded = new UsageRecorded(
            Guid.CreateVersion7(now), organisation.Id, feature.Code, command.Quantity, command.OccurredAt ?? now, now,
            period?.Start, period?.End, command.Key, command.Properties);
        var usedNow = used + command.Quantity;
        var response = new TrackUsageResponse(
            organisation.Id, feature.Code, command.Quantity, recorded.EventId, Duplicate: false,
            usedNow, limit.Max, UsageRules.Remaining(limit, usedNow), UsageRules.IsUnlimited(feature.Kind, limit),
            UsageRules.IsOver(limit, usedNow), period?.Start, period?.End);
        var key = command.Key is { } k
            ? new IdempotencyRecord(IdempotencyRecord.KeyFor(organisation.Id, k), feature.Code, command.Quantity, response)
            : null;
        return new TrackDecision(response, recorded, key);
    }
}

public static class TrackUsageHandler
{
    /// <summary>A single call is recorded by the group commit, in a transaction shared with the calls that arrive with it.</summary>
    public static Task<Outcome<TrackUsageResponse>> Handle(TrackUsage command, TrackUsageGroupCommit groupCommit, CancellationToken cancellation) =>
        groupCommit.TrackAsync(command, cancellation);
}
