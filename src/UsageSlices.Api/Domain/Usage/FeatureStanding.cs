namespace UsageSlices.Domain.Usage;

/// <summary>Where an organisation stands on one feature: what checks and the limits page both report.</summary>
public sealed record FeatureStanding(
    bool Enabled, long Used, long? Limit, long? Remaining, bool Unlimited, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd)
{
    /// <summary>When the count starts again from zero; <c>null</c> for gauges and flags, which never reset.</summary>
    public DateTimeOffset? ResetsAt => PeriodEnd;

    public static FeatureStanding Of(UsageFeature feature, TierLimit limit, long used, Period? period) =>
        feature.IsCounted
            ? new(limit.Max != 0, used, limit.Max, UsageRules.Remaining(limit, used), UsageRules.IsUnlimited(feature.Kind, limit), period?.Start, period?.End)
            : new(limit.Enabled == true, 0, null, null, false, null, null);
}
