using System.Text.Json.Serialization;

namespace UsageSlices.Domain;

/// <summary>Where an organisation's limit for a feature comes from.</summary>
public enum LimitSource
{
    [JsonStringEnumMemberName("tier")]
    Tier,

    [JsonStringEnumMemberName("override")]
    Override,
}

/// <summary>
/// The limit every check, limits page, track and reservation decides on (DESIGN.md Part 2): an organisation's
/// active override of the feature, else its tier's limit.
/// </summary>
public readonly record struct EffectiveLimit(TierLimit Limit, LimitSource Source, DateTimeOffset? OverrideExpiresAt)
{
    public long? Max => Limit.Max;

    public static EffectiveLimit OfTier(TierLimit limit) => new(limit, LimitSource.Tier, null);

    /// <summary>
    /// Decided at read time: an override stops applying at its <c>expiresAt</c> by the clock alone, with no job
    /// that has to run first. A tier that no longer exists grants nothing.
    /// </summary>
    public static EffectiveLimit Of(SubscriptionTier? tier, UsageFeature feature, LimitOverride? limitOverride, DateTimeOffset now) =>
        limitOverride is not null && limitOverride.IsActiveAt(now)
            ? new(limitOverride.Limit, LimitSource.Override, limitOverride.ExpiresAt)
            : OfTier(TierLimit.In(tier, feature));

    /// <summary>Names the limit in a refusal's words: "the pro tier's limit" or "its override's limit".</summary>
    public string Describe(string tier) => Source == LimitSource.Override ? $"the organisation's override limit of {Max}" : $"the {tier} tier's limit of {Max}";
}
