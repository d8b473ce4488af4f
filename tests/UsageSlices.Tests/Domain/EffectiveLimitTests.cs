using Shouldly;

namespace UsageSlices.Tests.Domain;

/// <summary>DESIGN.md Part 2's effective limit, and what holds do to a decision: pure functions, no host.</summary>
public sealed class EffectiveLimitTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly UsageFeature Messages = DefaultCatalog.Features.Single(feature => feature.Code == "AI_MESSAGES");
    private static readonly SubscriptionTier Free = DefaultCatalog.Tiers.Single(tier => tier.Code == "free");

    private static LimitOverride Override(long? limit, DateTimeOffset? expiresAt) => LimitOverride.From(
        "acme", new LimitOverrideGranted("AI_MESSAGES", TierLimit.Quota(limit), expiresAt, null, "sales", Now.AddDays(-1), null));

    [Fact]
    public void without_an_override_the_tier_decides() =>
        EffectiveLimit.Of(Free, Messages, null, Now).ShouldBe(new EffectiveLimit(TierLimit.Quota(50), LimitSource.Tier, null));

    [Fact]
    public void an_active_override_replaces_the_tier_limit_until_the_instant_it_expires()
    {
        var expiresAt = Now.AddHours(1);

        EffectiveLimit.Of(Free, Messages, Override(500, expiresAt), Now).ShouldBe(new EffectiveLimit(TierLimit.Quota(500), LimitSource.Override, expiresAt));
        EffectiveLimit.Of(Free, Messages, Override(500, expiresAt), expiresAt.AddTicks(-1)).Source.ShouldBe(LimitSource.Override);
        EffectiveLimit.Of(Free, Messages, Override(500, expiresAt), expiresAt).ShouldBe(EffectiveLimit.OfTier(TierLimit.Quota(50)));
    }

    [Fact]
    public void an_override_without_an_expiry_lasts_and_null_is_unlimited() =>
        EffectiveLimit.Of(Free, Messages, Override(null, null), Now.AddYears(10)).Max.ShouldBeNull();

    [Fact]
    public void an_override_can_lower_a_limit_below_the_tier()
    {
        var lowered = EffectiveLimit.Of(Free, Messages, Override(0, null), Now);

        UsageRules.RefusalReason(FeatureKind.Metered, lowered.Limit, 0, 1).ShouldBe(LimitReason.NotInTier);
    }

    [Theory]
    [InlineData(50, 10, 20, 20)]
    [InlineData(50, 40, 20, 0)]
    [InlineData(50, 0, 0, 50)]
    public void remaining_counts_what_reservations_hold(long limit, long used, long reserved, long remaining) =>
        UsageRules.Remaining(TierLimit.Quota(limit), used, reserved).ShouldBe(remaining);

    [Fact]
    public void used_and_reserved_together_saturate_instead_of_wrapping_round()
    {
        UsageRules.Taken(long.MaxValue - 1, 5).ShouldBe(long.MaxValue);
        UsageRules.RefusalReason(FeatureKind.Metered, TierLimit.Quota(long.MaxValue), UsageRules.Taken(long.MaxValue - 1, 5), 1)
            .ShouldBe(LimitReason.LimitExceeded);
    }

    [Fact]
    public void an_enforce_mode_decision_counts_holds_and_says_why_it_refused()
    {
        var acme = new Organisation { Id = "acme", Slug = "acme", Name = "Acme", Tier = "free", BillingAnchorDay = 1 };
        var call = new TrackUsage("acme", "AI_MESSAGES", 6, null, null, null, Enforce: true, null);

        var refusal = (LimitReached)UsageRules.Decide(
            call, acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Periods.Month(Now, 1), used: 5, reserved: 40, first: null, Now).Refusal!;

        (refusal.Reason, refusal.Used, refusal.Reserved, refusal.Remaining).ShouldBe((LimitReason.RequestedExceedsRemaining, 5, 40, 5));
        refusal.Detail.ShouldContain("40 of it held by reservations");
    }
}
