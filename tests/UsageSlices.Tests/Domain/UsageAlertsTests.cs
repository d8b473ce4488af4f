using Shouldly;

namespace UsageSlices.Tests.Domain;

/// <summary>Threshold crossings (<see cref="UsageAlerts.Of"/>) as a pure function of one change: no host, no database.</summary>
public sealed class UsageAlertsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly UsageFeature Messages = DefaultCatalog.Features.Single(feature => feature.Code == "AI_MESSAGES");
    private static readonly UsageFeature Seats = DefaultCatalog.Features.Single(feature => feature.Code == "TEAM_MEMBERS");
    private static readonly IReadOnlyList<int> Default = UsageAlerts.DefaultThresholds;

    private static IReadOnlyList<object> Change(UsageFeature feature, long? limit, long before, long after, params int[] announced) =>
        UsageAlerts.Of("acme", feature, limit, Default, announced, before, after, Periods.Month(Now, 1), Now);

    [Theory]
    [InlineData(39, 40, new[] { 80 })]
    [InlineData(0, 50, new[] { 80, 100 })]
    [InlineData(40, 49, new int[0])]
    [InlineData(49, 50, new[] { 100 })]
    [InlineData(50, 70, new int[0])]
    [InlineData(0, 39, new int[0])]
    public void a_change_crosses_what_it_takes_from_below_to_at_or_above(long before, long after, int[] crossed) =>
        Change(Messages, 50, before, after).OfType<UsageThresholdCrossed>().Select(c => c.Threshold).ShouldBe(crossed);

    [Fact]
    public void a_threshold_announced_in_the_period_is_not_announced_again() =>
        Change(Messages, 50, 39, 41, announced: 80).ShouldBeEmpty();

    [Fact]
    public void a_share_of_an_odd_limit_is_exact()
    {
        // 80% of 7 is 5.6: 5 is below it, 6 reaches it.
        Change(Messages, 7, 4, 5).ShouldBeEmpty();
        Change(Messages, 7, 5, 6).OfType<UsageThresholdCrossed>().ShouldHaveSingleItem().Threshold.ShouldBe(80);
    }

    [Fact]
    public void an_allocation_re_arms_when_it_falls_back_below_and_a_metered_feature_does_not()
    {
        Change(Seats, 10, 8, 7, announced: 80).OfType<UsageThresholdRearmed>().ShouldHaveSingleItem().Threshold.ShouldBe(80);
        Change(Seats, 10, 8, 8, announced: 80).ShouldBeEmpty();
        Change(Messages, 50, 45, 30, announced: 80).ShouldBeEmpty();
    }

    [Fact]
    public void an_unlimited_or_zero_limit_has_nothing_to_reach()
    {
        Change(Messages, null, 0, 1_000_000).ShouldBeEmpty();
        Change(Messages, 0, 0, 5).ShouldBeEmpty();
    }

    [Fact]
    public void the_largest_counts_do_not_wrap_round() =>
        UsageAlerts.Reaches(long.MaxValue, long.MaxValue, UsageAlerts.MaxThreshold).ShouldBeFalse();

    [Fact]
    public void the_crossing_carries_what_a_webhook_announces()
    {
        var crossed = Change(Messages, 50, 10, 45).OfType<UsageThresholdCrossed>().ShouldHaveSingleItem();

        crossed.ShouldBe(new UsageThresholdCrossed("acme", "AI_MESSAGES", 80, 45, 50, Periods.Month(Now, 1).Start, Periods.Month(Now, 1).End, Now));
    }

    [Fact]
    public void applying_the_events_keeps_what_was_announced() =>
        UsageAlerts.After([80], Change(Seats, 10, 8, 10, announced: 80)).Order().ShouldBe([80, 100]);
}
