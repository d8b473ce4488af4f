using System.Text.Json;
using Shouldly;

namespace UsageSlices.Tests.Domain;

public sealed class UsageRulesTests
{
    [Theory]
    [InlineData(10L, 0L, 10L, null)]
    [InlineData(10L, 9L, 1L, null)]
    [InlineData(10L, 9L, 2L, LimitReason.RequestedExceedsRemaining)]
    [InlineData(10L, 10L, 1L, LimitReason.LimitExceeded)]
    [InlineData(10L, 12L, 1L, LimitReason.LimitExceeded)]
    [InlineData(0L, 0L, 1L, LimitReason.NotInTier)]
    [InlineData(null, 1_000_000L, 1_000_000L, null)]
    [InlineData(3L, 5L, -1L, null)]
    public void a_counted_feature_is_allowed_while_used_plus_requested_fits_the_limit(long? limit, long used, long requested, LimitReason? reason)
    {
        UsageRules.RefusalReason(FeatureKind.Metered, TierLimit.Quota(limit), used, requested).ShouldBe(reason);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, LimitReason.NotInTier)]
    public void a_boolean_feature_follows_its_flag(bool flag, LimitReason? reason)
    {
        UsageRules.RefusalReason(FeatureKind.Boolean, TierLimit.Flag(flag), 0, 1).ShouldBe(reason);
    }

    [Theory]
    [InlineData(10L, 4L, 6L)]
    [InlineData(10L, 12L, 0L)]
    [InlineData(null, 12L, null)]
    public void remaining_never_goes_below_zero(long? limit, long used, long? remaining)
    {
        UsageRules.Remaining(TierLimit.Quota(limit), used).ShouldBe(remaining);
    }

    [Fact]
    public void over_means_strictly_past_the_limit()
    {
        UsageRules.IsOver(TierLimit.Quota(5), 5).ShouldBeFalse();
        UsageRules.IsOver(TierLimit.Quota(5), 6).ShouldBeTrue();
        UsageRules.IsOver(TierLimit.Quota(null), long.MaxValue).ShouldBeFalse();
    }

    [Fact]
    public void a_feature_missing_from_a_tier_is_not_in_it()
    {
        var tier = new SubscriptionTier("bare", "Bare", 0m, "USD", new Dictionary<string, TierLimit>());

        tier.LimitOf(DefaultCatalog.Features.Single(f => f.Code == "AI_MESSAGES")).ShouldBe(TierLimit.Quota(0));
        tier.LimitOf(DefaultCatalog.Features.Single(f => f.Code == "API_ACCESS")).ShouldBe(TierLimit.Flag(false));
    }

    [Theory]
    [InlineData("5", "5")]
    [InlineData("null", "null")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    public void a_limit_reads_and_writes_as_designed(string json, string written)
    {
        JsonSerializer.Serialize(JsonSerializer.Deserialize<TierLimit>(json)).ShouldBe(written);
    }

    [Theory]
    [InlineData("\"5\"")]
    [InlineData("1.5")]
    [InlineData("{}")]
    public void anything_else_is_not_a_limit(string json)
    {
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<TierLimit>(json));
    }
}
