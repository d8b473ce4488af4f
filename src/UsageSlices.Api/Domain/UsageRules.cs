namespace UsageSlices.Domain;

/// <summary>The check rule of DESIGN.md, as pure functions of the limit, what is used and what is asked for.</summary>
public static class UsageRules
{
    public const string LimitExceeded = "LIMIT_EXCEEDED";
    public const string RequestedExceedsRemaining = "REQUESTED_EXCEEDS_REMAINING";
    public const string NotInTier = "NOT_IN_TIER";

    /// <summary>Why <paramref name="requested"/> more is refused, or <c>null</c> when it is allowed.</summary>
    public static string? RefusalReason(FeatureKind kind, TierLimit limit, long used, long requested)
    {
        if (kind == FeatureKind.Boolean)
            return limit.Enabled == true ? null : NotInTier;

        // A release (negative allocation) never takes usage further past a limit, so it is always allowed.
        if (limit.Max is not { } max || requested <= 0 || used + requested <= max)
            return null;

        if (max == 0)
            return NotInTier;
        return used >= max ? LimitExceeded : RequestedExceedsRemaining;
    }

    public static long? Remaining(TierLimit limit, long used) => limit.Max is { } max ? Math.Max(0, max - used) : null;

    public static bool IsUnlimited(FeatureKind kind, TierLimit limit) => kind != FeatureKind.Boolean && limit.Max is null;

    public static bool IsOver(TierLimit limit, long used) => limit.Max is { } max && used > max;
}
