namespace UsageSlices.Domain;

/// <summary>A half-open interval [Start, End) of UTC time in which a metered feature's usage is counted.</summary>
public readonly record struct Period(DateTimeOffset Start, DateTimeOffset End);

public static class Periods
{
    /// <summary>The period of <paramref name="feature"/> that holds <paramref name="instant"/>; <c>null</c> for features that never reset.</summary>
    public static Period? For(UsageFeature feature, DateTimeOffset instant, int billingAnchorDay) =>
        feature.Kind == FeatureKind.Metered
            ? feature.Period == ResetPeriod.Day ? Day(instant) : Month(instant, billingAnchorDay)
            : null;

    public static Period Day(DateTimeOffset instant)
    {
        var start = new DateTimeOffset(instant.UtcDateTime.Date, TimeSpan.Zero);
        return new Period(start, start.AddDays(1));
    }

    /// <summary>
    /// The billing month holding <paramref name="instant"/>: from the anchor day 00:00 UTC to the same day next month,
    /// where an anchor past a month's end falls on its last day (as Stripe does: 31 Jan, 28/29 Feb, 31 Mar).
    /// </summary>
    public static Period Month(DateTimeOffset instant, int billingAnchorDay)
    {
        var utc = instant.UtcDateTime;
        var monthStart = new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var start = AnchorIn(monthStart, billingAnchorDay);
        if (utc < start)
        {
            monthStart = monthStart.AddMonths(-1);
            start = AnchorIn(monthStart, billingAnchorDay);
        }

        var end = AnchorIn(monthStart.AddMonths(1), billingAnchorDay);
        return new Period(new DateTimeOffset(start), new DateTimeOffset(end));
    }

    private static DateTime AnchorIn(DateTime monthStart, int billingAnchorDay) =>
        monthStart.AddDays(Math.Min(billingAnchorDay, DateTime.DaysInMonth(monthStart.Year, monthStart.Month)) - 1);
}
