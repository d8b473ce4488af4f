using Shouldly;
using UsageSlices.Features.UpsertingTiers;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Tests.Features.UpsertingTiers;

/// <summary>The handler's decision on loaded state, with no host: what it returns is all it does.</summary>
public sealed class UpsertTierDecisionTests
{
    private static readonly IReadOnlyDictionary<string, UsageFeature> Catalog = DefaultCatalog.Features.ToDictionary(feature => feature.Code);

    private static readonly DatabaseSettings OneDatabase = new("Host=db", "usage_slices", [new Shard(Shards.Main, "Host=db")]);

    private static readonly DatabaseSettings ThreeShards =
        OneDatabase with { Shards = [new Shard(Shards.Main, "Host=db"), new Shard("eu2", "Host=db2"), new Shard("eu3", "Host=db3")] };

    private static UpsertTier Command(params (string Code, TierLimit Limit)[] limits) =>
        new("team", "Team", 49m, "USD", limits.ToDictionary(limit => limit.Code, limit => limit.Limit));

    [Fact]
    public void a_new_tier_is_stored_and_reported_created()
    {
        var (outcome, effect, replication) = UpsertTierHandler.Handle(Command(("AI_MESSAGES", TierLimit.Quota(2_000))), new UpsertTierState(Catalog, null), OneDatabase);

        outcome.Value!.Created.ShouldBeTrue();
        outcome.Value.Tier.Limits["AI_MESSAGES"].ShouldBe(TierLimit.Quota(2_000));
        effect.ShouldBeOfType<StoreDoc<SubscriptionTier>>();
        replication.ShouldBeNull("one database has no shard to copy the catalog to");
    }

    [Fact]
    public void with_shards_a_stored_tier_is_replicated_to_them_by_a_message_of_the_same_transaction()
    {
        var (outcome, effect, replication) = UpsertTierHandler.Handle(Command(("AI_MESSAGES", TierLimit.Quota(2_000))), new UpsertTierState(Catalog, null), ThreeShards);

        outcome.Value!.Created.ShouldBeTrue();
        effect.ShouldBeOfType<StoreDoc<SubscriptionTier>>();
        replication.ShouldBe(new ReplicateCatalog());
    }

    [Fact]
    public void replacing_a_tier_is_not_a_creation()
    {
        var existing = DefaultCatalog.Tiers[0] with { Code = "team" };

        UpsertTierHandler.Handle(Command(), new UpsertTierState(Catalog, existing), OneDatabase).Item1.Value!.Created.ShouldBeFalse();
    }

    [Theory]
    [InlineData("NOPE", 5L, null)]
    [InlineData("API_ACCESS", 5L, null)]
    [InlineData("AI_MESSAGES", null, true)]
    [InlineData("AI_MESSAGES", -1L, null)]
    public void a_limit_of_an_unknown_feature_or_of_the_wrong_kind_is_refused_and_nothing_is_stored(string code, long? quota, bool? flag)
    {
        var limit = flag is { } enabled ? TierLimit.Flag(enabled) : TierLimit.Quota(quota);

        var (outcome, effect, replication) = UpsertTierHandler.Handle(Command((code, limit)), new UpsertTierState(Catalog, null), ThreeShards);

        outcome.Refusal!.Errors!.Keys.ShouldBe([$"limits.{code}"]);
        effect.ShouldBeOfType<NoOp>();
        replication.ShouldBeNull("nothing changed, so there is nothing to copy");
    }
}
