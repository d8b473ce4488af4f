using System.Diagnostics.CodeAnalysis;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// On the usage stream of the period of <paramref name="OccurredAt"/>: an admin's signed change of what was counted,
/// appended beside the events it corrects and never replacing them. <paramref name="Voids"/> names the usage event
/// it cancels, for a void, which also carries that event's <paramref name="Properties"/> so that history grouped by a
/// property takes it off the group it counted in. Who (<paramref name="Actor"/>), when (<paramref name="RecordedAt"/>)
/// and why (<paramref name="Reason"/>) are the audit trail the event log shows.
/// </summary>
public sealed record UsageCorrected(
    Guid CorrectionId,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    string? IdempotencyKey,
    string Reason,
    string Actor,
    Guid? Voids = null,
    IReadOnlyDictionary<string, string>? Properties = null);

/// <summary>A correction or a void answers like a track (its <c>used</c> is the corrected period's), with the correction's id.</summary>
public sealed record CorrectUsageReply : TrackUsageReply
{
    public CorrectUsageReply(TrackUsageReply track, Guid? voids)
        : base(track)
    {
        CorrectionId = track.EventId;
        Voids = voids;
    }

    public Guid CorrectionId { get; init; }

    /// <summary>The usage event a void cancels; <c>null</c> for a correction.</summary>
    public Guid? Voids { get; init; }
}

/// <summary>A correction's idempotency key, keyed <c>{orgId}:{key}</c> (apart from tracks' keys): a retry gets the first answer.</summary>
/// <param name="Reply">The first answer's track fields; its correction id is their event id.</param>
public sealed record CorrectionKey(string Id, string Feature, long Quantity, DateTimeOffset OccurredAt, TrackUsageReply Reply)
{
    public static string KeyFor(string orgId, string key) => $"{orgId}:{key}";

    public bool Matches(string feature, long quantity, DateTimeOffset occurredAt) =>
        Feature == feature && Quantity == quantity && OccurredAt == occurredAt;
}

/// <summary>What one correction of a period's count is, decided under the lock of its usage stream.</summary>
/// <param name="Events">The correction, then the threshold crossings (or re-armings) it causes.</param>
public sealed record CorrectionDecision(CorrectUsageReply Reply, IReadOnlyList<object> Events);

/// <summary>DESIGN.md Part 2's corrections, as a pure function shared by a correction and a void.</summary>
public static class UsageCorrections
{
    /// <summary>Refusals that need only the organisation and the feature, checked before any lock is taken.</summary>
    public static bool CanCorrect(
        string orgId, string featureCode, UsageTarget target,
        [NotNullWhen(true)] out Organisation? organisation, [NotNullWhen(true)] out UsageFeature? feature, [NotNullWhen(false)] out Refusal? refusal)
    {
        (organisation, feature) = (target.Organisation, target.Feature);
        refusal = organisation is null ? Refusal.OrganisationNotFound(orgId)
            : feature is null ? Refusal.UnknownFeature(featureCode)
            : !feature.IsCounted ? Refusal.Invalid("feature", $"{feature.Code} is a boolean feature: there is no count to correct.")
            : null;
        return refusal is null;
    }

    /// <summary>
    /// The correction of <paramref name="counter"/> (the stream of <paramref name="period"/>, as locked) by a signed
    /// <paramref name="quantity"/>, or the void of the usage event <paramref name="voids"/>: refused when it would take the period's usage below 0 or past the largest number.
    /// Its crossings are decided like any usage's, against the limit that applies now. Reservations are untouched.
    /// </summary>
    public static Outcome<CorrectionDecision> Decide(
        Organisation organisation, UsageFeature feature, EffectiveLimit limit, IReadOnlyList<int> thresholds, UsageCounter? counter,
        Period? period, long quantity, DateTimeOffset occurredAt, string? key, string reason, string actor, UsageEventView? voids, DateTimeOffset now)
    {
        var used = counter?.Used ?? 0;
        // Comparisons with differences, so that a count near the largest number cannot wrap round.
        if (quantity < 0 && -quantity > used)
            return Refusal.Conflict($"{feature.Code}: correcting by {quantity} would take the period's usage of {used} below 0; nothing was recorded.");
        if (quantity > 0 && quantity > long.MaxValue - used)
            return Refusal.Conflict($"{feature.Code}: correcting by {quantity} would overflow its count of {used}; nothing was recorded.");

        var corrected = new UsageCorrected(
            Guid.CreateVersion7(now), organisation.Id, feature.Code, quantity, occurredAt, now, period?.Start, period?.End, key, reason, actor,
            voids?.EventId, voids?.Properties);
        var usedNow = used + quantity;
        var reserved = counter?.Reserved ?? 0;
        var track = new TrackUsageReply(
            organisation.Id, feature.Code, quantity, corrected.CorrectionId, Duplicate: false, usedNow, limit.Max,
            UsageRules.Remaining(limit.Limit, usedNow, reserved), UsageRules.IsUnlimited(feature.Kind, limit.Limit),
            UsageRules.IsOver(limit.Limit, usedNow), period?.Start, period?.End);
        var alerts = UsageAlerts.Of(
            organisation.Id, feature, limit.Max, thresholds, counter?.Announced ?? [], used, usedNow, period, now);
        return new CorrectionDecision(new CorrectUsageReply(track, voids?.EventId), [corrected, .. alerts]);
    }
}
