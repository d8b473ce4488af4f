namespace UsageSlices.Client;

/// <summary>What a track recorded (or, for a retry of the same key, what its first call recorded: <see cref="Duplicate"/>).</summary>
public sealed record TrackResult(
    string OrgId, string Feature, long Quantity, Guid EventId, bool Duplicate, long Used, long? Limit, long? Remaining,
    bool Unlimited, bool OverLimit, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd);

/// <summary>Whether a quantity of a feature may be used now, with the numbers behind the answer.</summary>
public sealed record CheckResult(
    string OrgId, string Feature, string Kind, string Tier, bool Allowed, string? Reason, long Requested, long Used, long Reserved,
    long? Limit, long? Remaining, bool Unlimited, string Source, DateTimeOffset? OverrideExpiresAt, DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd, DateTimeOffset? ResetsAt, DateTimeOffset AsOf)
{
    /// <summary>
    /// The service could not be reached: <see cref="Allowed"/> is the feature's fail-open or fail-closed choice
    /// (<see cref="UsageSlicesClientOptions.FailOpen"/>), not the service's answer, and the numbers are unknown (0).
    /// </summary>
    public bool ServiceUnreachable { get; init; }

    /// <summary>
    /// Answered from this instance's limits cache (<see cref="UsageSlicesClientOptions.LimitsCacheMaxStaleness"/>), by
    /// the service's rule, on numbers read at most that long ago plus this instance's own tracks since.
    /// </summary>
    public bool FromCache { get; init; }

    internal static CheckResult Unreachable(string orgId, string feature, long requested, bool allowed, DateTimeOffset now) =>
        new(orgId, feature, "", "", allowed, allowed ? null : "SERVICE_UNREACHABLE", requested, 0, 0, null, null, false, "", null, null, null, null, now)
        {
            ServiceUnreachable = true,
        };

    /// <summary>The service's check rule on a cached limit: <c>used + reserved + requested ≤ limit</c>, the flag for a boolean.</summary>
    internal static CheckResult Decide(LimitsResult page, FeatureLimitResult limit, long requested, DateTimeOffset now)
    {
        var reason = RefusalReason(limit, requested);
        return new CheckResult(
            page.OrgId, limit.Feature, limit.Kind, page.Tier.Code, reason is null, reason, requested, limit.Used, limit.Reserved,
            limit.Limit, limit.Remaining, limit.Unlimited, limit.Source, limit.OverrideExpiresAt, limit.PeriodStart, limit.PeriodEnd,
            limit.ResetsAt, now)
        {
            FromCache = true,
        };
    }

    private static string? RefusalReason(FeatureLimitResult limit, long requested)
    {
        if (limit.Kind == "boolean")
            return limit.Enabled ? null : "NOT_IN_TIER";
        // Written as a difference, as the service does, so that counts near the largest number cannot wrap round.
        var taken = limit.Reserved > long.MaxValue - limit.Used ? long.MaxValue : limit.Used + limit.Reserved;
        if (limit.Limit is not { } max || requested <= max - taken)
            return null;
        if (max == 0)
            return "NOT_IN_TIER";
        return taken >= max ? "LIMIT_EXCEEDED" : "REQUESTED_EXCEEDS_REMAINING";
    }
}

/// <summary>One feature's limit and usage on the limits page.</summary>
public sealed record FeatureLimitResult(
    string Feature, string Kind, string? Period, bool Enabled, long? Limit, long Used, long Reserved, long? Remaining, bool Unlimited,
    string Source, DateTimeOffset? OverrideExpiresAt, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd, DateTimeOffset? ResetsAt);

/// <summary>An organisation's tier as the limits page names it.</summary>
public sealed record TierResult(string Code, string Name, decimal PriceMonthly, string Currency);

/// <summary>Every feature's limit and usage for one organisation.</summary>
public sealed record LimitsResult(string OrgId, TierResult Tier, IReadOnlyList<FeatureLimitResult> Features, DateTimeOffset AsOf);

/// <summary>A hold on a quantity of a feature, until it is committed, released or expires.</summary>
public sealed record ReservationResult(
    Guid ReservationId, string OrgId, string Feature, long Quantity, DateTimeOffset ExpiresAt, long Used, long Reserved, long? Limit,
    long? Remaining, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd, bool Duplicate);

/// <summary>An RFC 9457 problem the service answered with.</summary>
public sealed record UsageSlicesProblem(
    string? Type, string? Title, int? Status, string? Detail, string? Reason = null, long? Requested = null, long? Used = null,
    long? Reserved = null, long? Limit = null, long? Remaining = null);

/// <summary>One event of a batch: a record-mode track of any organisation the token may act for.</summary>
/// <param name="IdempotencyKey">The event's key; one is generated when none is given, and kept across the batch's retries.</param>
public sealed record BatchEvent(
    string OrgId, string Feature, long Quantity = 1, string? IdempotencyKey = null, DateTimeOffset? OccurredAt = null,
    IReadOnlyDictionary<string, string>? Properties = null);

/// <summary>What became of one event of a batch.</summary>
/// <param name="Status"><c>recorded</c>, <c>duplicate</c> (its key was seen before: <see cref="Result"/> is the first call's) or <c>rejected</c>.</param>
/// <param name="Result">The track's result, unless rejected.</param>
/// <param name="Problem">Why it was rejected (400, 403, 404 or 409).</param>
public sealed record BatchEventResult(int Index, string Status, TrackResult? Result, UsageSlicesProblem? Problem);

/// <summary>A batch's outcome: how many events were recorded, duplicates or rejected, and each one's result, in order.</summary>
public sealed record BatchResult(int Recorded, int Duplicates, int Rejected, IReadOnlyList<BatchEventResult> Results);
