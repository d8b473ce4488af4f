using System.Diagnostics.CodeAnalysis;

namespace UsageSlices.Domain.Usage;

/// <summary>What to do with one track call, decided on the stream's current count.</summary>
/// <param name="Recorded">The event to append, or <c>null</c> for a duplicate.</param>
/// <param name="Key">The idempotency record to insert with it, when the call carried a key.</param>
public sealed record TrackDecision(TrackUsageReply Reply, UsageRecorded? Recorded, IdempotencyRecord? Key);

/// <summary>DESIGN.md's check and track rules, as pure functions: every entry point decides through these.</summary>
public static class UsageRules
{
    /// <summary>
    /// Why <paramref name="requested"/> more is refused, or <c>null</c> when it is allowed. <paramref name="used"/> is
    /// what counts against the limit: usage plus what reservations hold (<see cref="Taken"/>).
    /// </summary>
    public static LimitReason? RefusalReason(FeatureKind kind, TierLimit limit, long used, long requested)
    {
        if (kind == FeatureKind.Boolean)
            return limit.Enabled == true ? null : LimitReason.NotInTier;

        // A release (negative allocation) never takes usage further past a limit, so it is always allowed. Written as
        // a difference, so that a count near the largest number cannot wrap round into "allowed".
        if (limit.Max is not { } max || requested <= 0 || requested <= max - used)
            return null;

        if (max == 0)
            return LimitReason.NotInTier;
        return used >= max ? LimitReason.LimitExceeded : LimitReason.RequestedExceedsRemaining;
    }

    /// <summary>Usage plus holds, which count against a limit alike; saturated, so that a count near the largest number cannot wrap round.</summary>
    public static long Taken(long used, long reserved) => reserved > long.MaxValue - used ? long.MaxValue : used + reserved;

    public static long? Remaining(TierLimit limit, long used, long reserved = 0) =>
        limit.Max is { } max ? Math.Max(0, max - Taken(used, reserved)) : null;

    public static bool IsUnlimited(FeatureKind kind, TierLimit limit) => kind != FeatureKind.Boolean && limit.Max is null;

    public static bool IsOver(TierLimit limit, long used) => limit.Max is { } max && used > max;

    /// <summary>Refusals that need only the organisation and the feature, checked before any lock is taken.</summary>
    public static bool CanTrack(
        TrackUsage call,
        [NotNullWhen(true)] Organisation? organisation,
        [NotNullWhen(true)] UsageFeature? feature,
        [NotNullWhen(false)] out Refusal? refusal)
    {
        refusal = organisation is null ? Refusal.OrganisationNotFound(call.OrgId)
            : feature is null ? Refusal.UnknownFeature(call.Feature)
            : !feature.IsCounted ? Refusal.Invalid("feature", $"{feature.Code} is a boolean feature: there is nothing to count.")
            : feature.Kind == FeatureKind.Metered && call.Quantity < 0
                ? Refusal.Invalid("quantity", $"{feature.Code} is metered: only positive quantities can be tracked.")
            : null;
        return refusal is null;
    }

    /// <summary>
    /// A duplicate of <paramref name="first"/>, a refusal, or an event to record on top of <paramref name="used"/>,
    /// beside the <paramref name="reserved"/> quantity that reservations hold in the same period.
    /// </summary>
    public static Outcome<TrackDecision> Decide(
        TrackUsage call, Organisation organisation, UsageFeature feature, EffectiveLimit limit, Period? period,
        long used, long reserved, IdempotencyRecord? first, DateTimeOffset now, Guid? reservationId = null)
    {
        if (first is not null)
        {
            return first.Feature == feature.Code && first.Quantity == call.Quantity
                ? new TrackDecision(first.Result with { Duplicate = true }, null, null)
                : Refusal.Conflict($"Idempotency key '{call.Key}' was first used for {first.Quantity} of {first.Feature}; a retry must send the same feature and quantity.");
        }

        // Written as a comparison with a difference, as the overflow check below, so a large count cannot wrap round.
        if (feature.Kind == FeatureKind.Allocation && call.Quantity < -used)
            return Refusal.Conflict($"Releasing {-call.Quantity} of {feature.Code} would take its usage below zero: {used} is allocated.");

        // Enforcement decides on the current period: a call backdated into a closed period is recorded there (the usage
        // happened, and billing must see it) as in record mode, never admitted or refused against a closed period's count.
        var enforce = call.Enforce && period == Periods.For(feature, now, organisation.BillingAnchorDay);
        if (enforce && RefusalReason(feature.Kind, limit.Limit, Taken(used, reserved), call.Quantity) is { } reason)
        {
            return new LimitReached(
                organisation.Id, feature.Code, reason, call.Quantity, used, limit.Max, Remaining(limit.Limit, used, reserved),
                $"{feature.Code}: {call.Quantity} more would exceed {limit.Describe(organisation.Tier)}{HeldNote(reserved)}; nothing was recorded.")
            {
                Reserved = reserved,
            };
        }

        if (call.Quantity > long.MaxValue - used)
            return Refusal.Conflict($"{feature.Code}: {call.Quantity} more would overflow its count of {used}; nothing was recorded.");

        var recorded = new UsageRecorded(
            Guid.CreateVersion7(now), organisation.Id, feature.Code, call.Quantity, call.OccurredAt ?? now, now,
            period?.Start, period?.End, call.Key, call.Properties, reservationId);
        var usedNow = used + call.Quantity;
        var reply = new TrackUsageReply(
            organisation.Id, feature.Code, call.Quantity, recorded.EventId, Duplicate: false,
            usedNow, limit.Max, Remaining(limit.Limit, usedNow, reserved), IsUnlimited(feature.Kind, limit.Limit),
            IsOver(limit.Limit, usedNow), period?.Start, period?.End);
        var key = call.Key is { } k
            ? new IdempotencyRecord(IdempotencyRecord.KeyFor(organisation.Id, k), feature.Code, call.Quantity, reply)
            : null;
        return new TrackDecision(reply, recorded, key);
    }

    /// <summary>Says, in a refusal, that reservations hold part of the limit, which the numbers alone would not explain.</summary>
    public static string HeldNote(long reserved) => reserved > 0 ? $" ({reserved} of it held by reservations)" : "";
}
