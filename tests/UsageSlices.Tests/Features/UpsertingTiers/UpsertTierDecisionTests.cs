using Shouldly;
using UsageSlices.Features.UpsertingTiers;
using Wolverine.Marten;

namespace UsageSlices.Tests.Features.UpsertingTiers;

/// <summary>The handler's decision on loaded state, with no host: what it returns is all it does.</summary>
public sealed class UpsertTierDecisionTests
{
    private static readonly IReadOnlyDictionary<string, UsageFeature> Catalog = DefaultCatalog.Features.ToDictionary(feature => feature.Code);

    private static UpsertTier Command(params (string Code, TierLimit Limit)[] limits) =>
        new("team", "Team", 49m, "USD", limits.ToDictionary(limit => limit.Code, limit => limit.Limit));

    [Fact]
    public void a_new_tier_is_stored_and_reported_created()
    {
        var (outcome, effect) = UpsertTierHandler.Handle(Command(("AI_MESSAGES", TierLimit.Quota(2_000))), new UpsertTierState(Catalog, null));

        outcome.Value!.Created.ShouldBeTrue();
        outcome.Value.Tier.Limits["AI_MESSAGES"].ShouldBe(TierLimit.Quota(2_000));
        effect.ShouldBeOfType<StoreDoc<SubscriptionTier>>();
    }

    [Fact]
    public void replacing_a_tier_is_not_a_creation()
    {
        var existing = DefaultCatalog.Tiers[0] with { Code = "team" };

        UpsertTierHandler.Handle(Command(), new UpsertTierState(Catalog, existing)).Item1.Value!.Created.ShouldBeFalse();
    }

    [Theory]
    [InlineData("NOPE", 5L, null)]
    [InlineData("API_ACCESS", 5L, null)]
    [InlineData("AI_MESSAGES", null, true)]
    [InlineData("AI_MESSAGES", -1L, null)]
    public void a_limit_of_an_unknown_feature_or_of_the_wrong_kind_is_refused_and_nothing_is_stored(string code, long? quota, bool? flag)
    {
        var limit = flag is { } enabled ? TierLimit.Flag(enabled) : TierLimit.Quota(quota);

        var (outcome, effect) = UpsertTierHandler.Handle(Command((code, limit)), new UpsertTierState(Catalog, null));

        outcome.Refusal!.Errors!.Keys.ShouldBe([$"limits.{code}"]);
        effect.ShouldBeOfType<NoOp>();
    }
}
