using FluentValidation;
using Microsoft.Extensions.Options;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// Record that organisation <paramref name="OrgId"/> used <paramref name="Quantity"/> of <paramref name="Feature"/>:
/// what every entry point (a single call, a batch event, a queued call) hands to the <see cref="UsageLedger"/>.
/// </summary>
/// <param name="IdempotencyKeyHeader">The <c>Idempotency-Key</c> header; when the body has a key too, both must agree.</param>
public sealed record TrackUsage(
    string OrgId,
    string Feature,
    long Quantity,
    string? IdempotencyKey,
    string? IdempotencyKeyHeader,
    DateTimeOffset? OccurredAt,
    bool Enforce,
    IReadOnlyDictionary<string, string>? Properties) : IForOrganisation
{
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
            RuleFor(x => x.Properties).MustBeProperties();
        }
    }
}

/// <summary>
/// The ledger's answer to one track call: where the organisation stands on the feature once it is recorded. Not
/// sealed: a commit and a correction answer the same, with their own id beside it.
/// </summary>
public record TrackUsageReply(
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

/// <summary>An idempotency key already used by an organisation, with the reply to its first call; keyed <c>{orgId}:{key}</c>.</summary>
public sealed record IdempotencyRecord(string Id, string Feature, long Quantity, TrackUsageReply Result)
{
    public static string KeyFor(string orgId, string key) => $"{orgId}:{key}";
}
