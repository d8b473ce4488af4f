using Shouldly;

namespace UsageSlices.Tests.Domain;

public sealed class PeriodTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    [Theory]
    [InlineData(2025, 2, 10, 2025, 1, 31, 2025, 2, 28)]
    [InlineData(2025, 2, 28, 2025, 2, 28, 2025, 3, 31)]
    [InlineData(2025, 3, 15, 2025, 2, 28, 2025, 3, 31)]
    [InlineData(2024, 2, 28, 2024, 1, 31, 2024, 2, 29)]
    [InlineData(2024, 2, 29, 2024, 2, 29, 2024, 3, 31)]
    [InlineData(2024, 4, 30, 2024, 4, 30, 2024, 5, 31)]
    [InlineData(2024, 12, 31, 2024, 12, 31, 2025, 1, 31)]
    public void anchor_day_31_clamps_to_the_last_day_of_short_months(
        int year, int month, int day, int startYear, int startMonth, int startDay, int endYear, int endMonth, int endDay)
    {
        var period = Periods.Month(Utc(year, month, day, 12), 31);

        period.Start.ShouldBe(Utc(startYear, startMonth, startDay));
        period.End.ShouldBe(Utc(endYear, endMonth, endDay));
    }

    [Fact]
    public void anchor_day_30_in_february_of_a_leap_year_falls_on_the_29th()
    {
        var period = Periods.Month(Utc(2028, 3, 1), 30);

        period.Start.ShouldBe(Utc(2028, 2, 29));
        period.End.ShouldBe(Utc(2028, 3, 30));
    }

    [Fact]
    public void consecutive_periods_meet_without_gap_or_overlap_for_every_anchor_day()
    {
        for (var anchor = 1; anchor <= 31; anchor++)
        {
            var period = Periods.Month(Utc(2023, 12, 20), anchor);
            for (var i = 0; i < 30; i++)
            {
                var next = Periods.Month(period.End, anchor);
                next.Start.ShouldBe(period.End);
                Periods.Month(period.End.AddTicks(-1), anchor).ShouldBe(period);
                period = next;
            }
        }
    }

    [Fact]
    public void an_event_exactly_on_the_boundary_belongs_to_the_period_that_starts_there()
    {
        var boundary = Utc(2026, 3, 15);

        Periods.Month(boundary, 15).Start.ShouldBe(boundary);
        Periods.Month(boundary.AddTicks(-1), 15).End.ShouldBe(boundary);
        Periods.Day(Utc(2026, 3, 15)).ShouldBe(new Period(Utc(2026, 3, 15), Utc(2026, 3, 16)));
    }

    [Fact]
    public void a_backdated_event_lands_in_the_previous_period()
    {
        var now = Utc(2026, 11, 3, 9);
        var backdated = Utc(2026, 10, 30, 23, 59, 59);

        Periods.Month(backdated, 1).ShouldBe(new Period(Utc(2026, 10, 1), Utc(2026, 11, 1)));
        Periods.Month(now, 1).Start.ShouldBe(Utc(2026, 11, 1));
    }

    [Fact]
    public void the_day_period_is_the_utc_day_whatever_the_offset_of_the_instant()
    {
        var lateEveningInNewYork = new DateTimeOffset(2026, 6, 1, 22, 30, 0, TimeSpan.FromHours(-4));

        Periods.Day(lateEveningInNewYork).ShouldBe(new Period(Utc(2026, 6, 2), Utc(2026, 6, 3)));
    }

    [Fact]
    public void features_that_never_reset_have_no_period()
    {
        var seats = DefaultCatalog.Features.Single(f => f.Code == "TEAM_MEMBERS");
        var access = DefaultCatalog.Features.Single(f => f.Code == "API_ACCESS");
        var calls = DefaultCatalog.Features.Single(f => f.Code == "API_CALLS");

        Periods.For(seats, Utc(2026, 1, 1), 5).ShouldBeNull();
        Periods.For(access, Utc(2026, 1, 1), 5).ShouldBeNull();
        Periods.For(calls, Utc(2026, 1, 9, 8), 5).ShouldBe(new Period(Utc(2026, 1, 9), Utc(2026, 1, 10)));
    }
}
