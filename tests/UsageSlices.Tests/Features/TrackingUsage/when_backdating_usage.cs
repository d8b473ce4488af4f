using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_backdating_usage(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task an_event_from_the_previous_period_counts_there_and_not_in_the_current_one()
    {
        var today = DateTimeOffset.UtcNow;
        await RegisterAsync("acme", billingAnchorDay: today.Day);
        var current = Periods.Month(today, today.Day);
        var inPreviousPeriod = current.Start.AddDays(-1);

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", quantity = 4, occurredAt = inPreviousPeriod }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
        });

        var tracked = await BodyOf(result);
        DateTimeOffset.Parse((string)tracked["periodEnd"]!).ShouldBe(current.Start);
        ((long)tracked["used"]!).ShouldBe(4);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    /// <summary>
    /// Today's API_CALLS are used up; the clock moves past midnight, closing that day. Enforce mode decides on the
    /// current period: a call backdated into the closed day is recorded there as in record mode (200, over its
    /// limit), never admitted or refused against it, and the new day's limit is enforced as usual.
    /// </summary>
    [Fact]
    public async Task enforce_mode_decides_on_the_current_period_and_only_records_into_a_closed_one()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "API_CALLS", 10_000);
        var closedDay = Periods.Day(Clock.GetUtcNow());
        Clock.Advance(closedDay.End - Clock.GetUtcNow() + TimeSpan.FromHours(1));

        var backdated = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "API_CALLS", quantity = 5, enforce = true, occurredAt = closedDay.End.AddMinutes(-30) }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
        });
        var recorded = await BodyOf(backdated);
        DateTimeOffset.Parse((string)recorded["periodStart"]!).ShouldBe(closedDay.Start);
        ((long)recorded["used"]!).ShouldBe(10_005);
        ((bool)recorded["overLimit"]!).ShouldBeTrue();

        (await UsedAsync("acme", "API_CALLS")).ShouldBe(0);
        await TrackAsync("acme", "API_CALLS", 10_000, enforce: true);
        var refused = await ProblemOf(await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "API_CALLS", quantity = 1, enforce = true }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(402);
        }), 402);
        ((long)refused["used"]!).ShouldBe(10_000);
    }

    [Theory]
    [InlineData(-36 * 24 * 60)]
    [InlineData(6)]
    public async Task an_event_outside_the_window_is_400(int minutesFromNow)
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", occurredAt = DateTimeOffset.UtcNow.AddMinutes(minutesFromNow) }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["occurredAt"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task an_event_a_few_minutes_ahead_of_the_server_clock_is_accepted()
    {
        await RegisterAsync("acme");

        await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "TEAM_MEMBERS", occurredAt = DateTimeOffset.UtcNow.AddMinutes(3) }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
        });

        (await UsedAsync("acme", "TEAM_MEMBERS")).ShouldBe(1);
    }
}
