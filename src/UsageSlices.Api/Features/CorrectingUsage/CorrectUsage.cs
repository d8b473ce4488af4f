using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.CorrectingUsage;

public sealed record CorrectUsageBody(
    string? Feature = null, long? Quantity = null, DateTimeOffset? OccurredAt = null, string? Reason = null, string? IdempotencyKey = null)
    : IHasExample
{
    public static object Example => new
    {
        feature = "AI_MESSAGES",
        quantity = -120,
        occurredAt = "2026-11-14T09:30:00Z",
        reason = "Ticket 4711: a retry loop counted 120 messages twice",
        idempotencyKey = "ticket-4711",
    };
}

/// <summary>
/// Change what organisation <paramref name="OrgId"/> is counted for <paramref name="Feature"/> by a signed
/// <paramref name="Quantity"/>, in the period of <paramref name="OccurredAt"/> (any past period: the late window is
/// for callers, not admins), for <paramref name="Reason"/>.
/// </summary>
public sealed record CorrectUsage(
    string OrgId, string? Feature, long? Quantity, DateTimeOffset? OccurredAt, string? Reason, string? IdempotencyKey, Caller Caller)
    : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<CorrectUsage>
    {
        public Validator(TimeProvider time)
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode();
            RuleFor(x => x.Quantity).Cascade(CascadeMode.Stop).NotNull().NotEqual(0).InclusiveBetween(-ValidationRules.MaxQuantity, ValidationRules.MaxQuantity)
                .WithMessage($"quantity is required: a whole number from -{ValidationRules.MaxQuantity:N0} to {ValidationRules.MaxQuantity:N0}, not 0.");
            RuleFor(x => x.OccurredAt).Cascade(CascadeMode.Stop).NotNull().WithMessage("occurredAt is required: the time whose period the correction belongs to.")
                .Must(at => at <= time.GetUtcNow() + UsageSettings.FutureTolerance && at >= UsageBuckets.Earliest)
                .WithMessage($"occurredAt may be at most {UsageSettings.FutureTolerance.TotalMinutes} minutes in the future, and after {UsageBuckets.Earliest:yyyy}.");
            RuleFor(x => x.Reason).Cascade(CascadeMode.Stop).NotEmpty().WithMessage("reason is required: why the count is corrected.").MustBeReason();
            RuleFor(x => x.IdempotencyKey).Cascade(CascadeMode.Stop).NotNull().WithMessage("idempotencyKey is required: a retry of the correction must not apply it twice.")
                .MustBeIdempotencyKey();
        }
    }
}

public static class CorrectUsageHandler
{
    /// <summary>
    /// Decided under the lock of the corrected period's stream, like every writer of it, with the idempotency key read
    /// after the lock: a retry that waited sees its first attempt. The correction, its crossings and the key land in
    /// one transaction.
    /// </summary>
    public static async Task<Outcome<CorrectUsageReply>> Handle(
        CorrectUsage command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var (quantity, occurredAt) = (command.Quantity!.Value, command.OccurredAt!.Value);
        var target = await session.LoadUsageTargetAsync(command.OrgId, command.Feature!, cancellation);
        if (!UsageCorrections.CanCorrect(command.OrgId, command.Feature!, target, out var organisation, out var feature, out var refusal))
            return refusal;

        var now = time.GetUtcNow();
        var period = Periods.For(feature, occurredAt, organisation.BillingAnchorDay);
        var stream = UsageCounter.KeyFor(organisation.Id, feature, period);
        var keyId = CorrectionKey.KeyFor(organisation.Id, command.IdempotencyKey!);

        await session.BeginTransactionAsync(cancellation);
        var locks = session.CreateBatchQuery();
        var locked = UsageLedger.LockStreams(locks, [stream]);
        var keyRead = locks.Load<CorrectionKey>(keyId);
        await locks.Execute(cancellation);
        var counter = (await UsageLedger.LockedAsync(locked))[stream];

        if (await keyRead is { } first)
        {
            return first.Matches(feature.Code, quantity, occurredAt)
                ? new CorrectUsageReply(first.Reply with { Duplicate = true }, voids: null)
                : Refusal.Conflict($"Idempotency key '{command.IdempotencyKey}' was first used for a correction of {first.Quantity} of {first.Feature} at {first.OccurredAt:O}; a retry must send the same.");
        }

        var decision = UsageCorrections.Decide(
            organisation, feature, target.Catalog.LimitOf(organisation, feature, now), target.Catalog.ThresholdsOf(organisation),
            counter.Aggregate, period, quantity, occurredAt, command.IdempotencyKey, command.Reason!, command.Caller.Subject, voids: null, now);
        if (decision.Refusal is { } conflict)
            return conflict;

        counter.AppendMany(decision.Value!.Events);
        // Kept as its track fields (the key's declared type), from which a retry's answer is rebuilt.
        session.Insert(new CorrectionKey(keyId, feature.Code, quantity, occurredAt, decision.Value.Reply));
        return decision.Value.Reply;
    }
}

public static class CorrectUsageEndpoint
{
    public static void MapCorrectUsage(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/corrections", (string orgId, CorrectUsageBody body, HttpContext http) =>
                http.Send<CorrectUsage, CorrectUsageReply>(new CorrectUsage(
                    orgId, body.Feature, body.Quantity, body.OccurredAt, body.Reason, body.IdempotencyKey, http.Caller())))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces<CorrectUsageReply>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CorrectUsage")
            .WithSummary("Add a signed correction to what an organisation was counted in the period of occurredAt (admin); never below 0.");
}
