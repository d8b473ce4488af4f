namespace UsageSlices.Domain.Usage;

/// <summary>Where an organisation stands on one feature: what checks and the limits page both report.</summary>
public sealed record FeatureStanding(
    bool Enabled,
    long Used,
    long Reserved,
    long? Limit,
    long? Remaining,
    bool Unlimited,
    LimitSource Source,
    DateTimeOffset? OverrideExpiresAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd)
{
    /// <summary>When the count starts again from zero; <c>null</c> for gauges and flags, which never reset.</summary>
    public DateTimeOffset? ResetsAt => PeriodEnd;

    public static FeatureStanding Of(UsageFeature feature, EffectiveLimit limit, UsageCounter? counter, Period? period)
    {
        if (!feature.IsCounted)
            return new(limit.Limit.Enabled == true, 0, 0, null, null, false, limit.Source, limit.OverrideExpiresAt, null, null);

        var (used, reserved) = (counter?.Used ?? 0, counter?.Reserved ?? 0);
        return new(
            limit.Max != 0, used, reserved, limit.Max, UsageRules.Remaining(limit.Limit, used, reserved),
            UsageRules.IsUnlimited(feature.Kind, limit.Limit), limit.Source, limit.OverrideExpiresAt, period?.Start, period?.End);
    }
}
