using Shouldly;

namespace UsageSlices.Tests.Domain;

/// <summary>The ledger's decisions (<see cref="UsageRules.CanTrack"/>, <see cref="UsageRules.Decide"/>) as pure functions: no host, no database.</summary>
public sealed class TrackDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly Organisation Acme = new() { Id = "acme", Slug = "acme", Name = "Acme", Tier = "free", BillingAnchorDay = 1 };
    private static readonly UsageFeature Messages = Feature("AI_MESSAGES");
    private static readonly UsageFeature Seats = Feature("TEAM_MEMBERS");
    private static readonly Period Month = Periods.Month(Now, 1);

    private static UsageFeature Feature(string code) => DefaultCatalog.Features.Single(feature => feature.Code == code);

    private static TrackUsage Call(long quantity = 1, bool enforce = false, string? key = null, string feature = "AI_MESSAGES") =>
        new("acme", feature, quantity, key, null, null, enforce, null);

    [Fact]
    public void an_unknown_organisation_is_not_found() =>
        (UsageRules.CanTrack(Call(), null, Messages, out var refusal), refusal!.Kind).ShouldBe((false, RefusalKind.NotFound));

    [Fact]
    public void an_unknown_feature_is_invalid_and_names_the_field()
    {
        UsageRules.CanTrack(Call(feature: "NOPE"), Acme, null, out var refusal).ShouldBeFalse();
        refusal!.Kind.ShouldBe(RefusalKind.Invalid);
        refusal.Errors!.Keys.ShouldBe(["feature"]);
    }

    [Fact]
    public void a_boolean_feature_has_nothing_to_count()
    {
        UsageRules.CanTrack(Call(feature: "API_ACCESS"), Acme, Feature("API_ACCESS"), out var refusal).ShouldBeFalse();
        refusal!.Errors!.Keys.ShouldBe(["feature"]);
    }

    [Fact]
    public void a_metered_feature_takes_no_negative_quantity_but_an_allocation_does()
    {
        UsageRules.CanTrack(Call(-1), Acme, Messages, out var refusal).ShouldBeFalse();
        refusal!.Errors!.Keys.ShouldBe(["quantity"]);
        UsageRules.CanTrack(Call(-1, feature: "TEAM_MEMBERS"), Acme, Seats, out _).ShouldBeTrue();
    }

    [Fact]
    public void record_mode_records_past_the_limit_and_says_so()
    {
        var decision = UsageRules.Decide(Call(3), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 49, reserved: 0, first: null, Now).Value!;

        decision.Recorded!.Quantity.ShouldBe(3);
        decision.Recorded.PeriodStart.ShouldBe(Month.Start);
        decision.Reply.Used.ShouldBe(52);
        decision.Reply.Remaining.ShouldBe(0);
        decision.Reply.OverLimit.ShouldBeTrue();
        decision.Key.ShouldBeNull();
    }

    [Fact]
    public void enforce_mode_refuses_past_the_limit_with_the_numbers()
    {
        var refusal = UsageRules.Decide(Call(3, enforce: true), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 49, reserved: 0, first: null, Now).Refusal;

        refusal.ShouldBe(new LimitReached("acme", "AI_MESSAGES", LimitReason.RequestedExceedsRemaining, 3, 49, 50, 1, refusal!.Detail));
    }

    [Fact]
    public void a_key_is_kept_with_the_reply_it_first_got()
    {
        var decision = UsageRules.Decide(Call(2, key: "k"), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 0, reserved: 0, first: null, Now).Value!;

        decision.Key.ShouldBe(new IdempotencyRecord("acme:k", "AI_MESSAGES", 2, decision.Reply));
    }

    [Fact]
    public void a_repeated_key_is_a_duplicate_of_the_first_reply_and_records_nothing()
    {
        var first = UsageRules.Decide(Call(2, key: "k"), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 0, reserved: 0, first: null, Now).Value!.Key;

        var again = UsageRules.Decide(Call(2, key: "k"), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 40, reserved: 0, first, Now).Value!;

        again.Recorded.ShouldBeNull();
        again.Key.ShouldBeNull();
        again.Reply.ShouldBe(first!.Result with { Duplicate = true });
    }

    [Fact]
    public void a_repeated_key_with_another_quantity_is_a_conflict()
    {
        var first = UsageRules.Decide(Call(2, key: "k"), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 0, reserved: 0, first: null, Now).Value!.Key;

        UsageRules.Decide(Call(3, key: "k"), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(50)), Month, used: 2, reserved: 0, first, Now).Refusal!.Kind.ShouldBe(RefusalKind.Conflict);
    }

    [Fact]
    public void a_release_below_zero_is_a_conflict()
    {
        UsageRules.Decide(Call(-3, feature: "TEAM_MEMBERS"), Acme, Seats, EffectiveLimit.OfTier(TierLimit.Quota(10)), null, used: 2, reserved: 0, first: null, Now)
            .Refusal!.Kind.ShouldBe(RefusalKind.Conflict);
        UsageRules.Decide(Call(-2, feature: "TEAM_MEMBERS"), Acme, Seats, EffectiveLimit.OfTier(TierLimit.Quota(10)), null, used: 2, reserved: 0, first: null, Now)
            .Value!.Reply.Used.ShouldBe(0);
    }
}
