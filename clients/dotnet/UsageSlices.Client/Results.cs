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

    internal static CheckResult Unreachable(string orgId, string feature, long requested, bool allowed, DateTimeOffset now) =>
        new(orgId, feature, "", "", allowed, allowed ? null : "SERVICE_UNREACHABLE", requested, 0, 0, null, null, false, "", null, null, null, null, now)
        {
            ServiceUnreachable = true,
        };
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
