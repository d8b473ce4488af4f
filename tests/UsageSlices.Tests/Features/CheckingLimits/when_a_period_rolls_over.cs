using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.CheckingLimits;

/// <summary>The service's clock moves (see <see cref="TestClock"/>); periods end where <c>resetsAt</c> said they would.</summary>
public sealed class when_a_period_rolls_over(AppFixture app) : ApiTest(app)
{
    [Theory]
    [InlineData("AI_MESSAGES")]
    [InlineData("API_CALLS")]
    public async Task usage_counts_until_resets_at_and_starts_again_from_zero_there(string feature)
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", feature, 5);
        var before = await CheckAsync("acme", feature);
        var resetsAt = DateTimeOffset.Parse((string)before["resetsAt"]!);
        ((long)before["used"]!).ShouldBe(5);

        Clock.Advance(resetsAt - Clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        var justBefore = await CheckAsync("acme", feature);
        ((long)justBefore["used"]!).ShouldBe(5);
        ((string)justBefore["resetsAt"]!).ShouldBe((string)before["resetsAt"]!);

        Clock.Advance(TimeSpan.FromSeconds(2));
        var after = await CheckAsync("acme", feature);
        ((long)after["used"]!).ShouldBe(0);
        DateTimeOffset.Parse((string)after["periodStart"]!).ShouldBe(resetsAt);
        DateTimeOffset.Parse((string)after["resetsAt"]!).ShouldBeGreaterThan(resetsAt);

        var tracked = await TrackAsync("acme", feature, 2);
        ((long)tracked["used"]!).ShouldBe(2);
        DateTimeOffset.Parse((string)tracked["periodStart"]!).ShouldBe(resetsAt);
    }

    [Fact]
    public async Task an_allocation_never_resets()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "TEAM_MEMBERS", 3);

        Clock.Advance(TimeSpan.FromDays(62));
        var check = await CheckAsync("acme", "TEAM_MEMBERS");

        ((long)check["used"]!).ShouldBe(3);
        check["resetsAt"].ShouldBeNull();
    }
}
