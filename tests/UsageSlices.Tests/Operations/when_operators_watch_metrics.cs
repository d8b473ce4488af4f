using System.Globalization;
using System.Text.RegularExpressions;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;
using Wolverine.Tracking;

namespace UsageSlices.Tests.Operations;

public sealed partial class when_operators_watch_metrics(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task metrics_count_recorded_events_enforce_rejections_and_failed_tracking_and_time_tracks_and_checks()
    {
        await RegisterAsync("acme");
        var before = await ScrapeAsync();

        await TrackAsync("acme", "INVOICES", 4);
        await TrackAsync("acme", "INVOICES", 1);
        await TrackAsync("acme", "INVOICES", 1, enforce: true, status: 402);
        await CheckAsync("acme", "INVOICES");
        await Host.ExecuteAndWaitAsync(() => Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "TEAM_MEMBERS", quantity = -1 }).ToUrl("/api/v1/usage/acme/track");
            x.WithRequestHeader("Prefer", "respond-async");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(202);
        }), 30_000);
        var after = await ScrapeAsync();

        Delta(before, after, "usage_slices_events_recorded_total", "feature=\"INVOICES\"").ShouldBe(2);
        Delta(before, after, "usage_slices_quantity_recorded_total", "feature=\"INVOICES\"").ShouldBe(5);
        Delta(before, after, "usage_slices_enforce_rejections_total", "reason=\"LIMIT_EXCEEDED\"").ShouldBe(1);
        Delta(before, after, "usage_slices_tracking_failures_total", "feature=\"TEAM_MEMBERS\"").ShouldBe(1);
        Delta(before, after, "usage_slices_track_duration_seconds_count", "").ShouldBe(4);
        Delta(before, after, "usage_slices_check_duration_seconds_count", "").ShouldBe(1);
        // The queue depth is sampled every 5 s, so a scrape right after a host of another test stopped may miss it for one period.
        await Eventually.WaitUntilAsync(
            async () => (await ScrapeAsync()).Keys.Any(key => key.StartsWith("usage_slices_async_queue_depth")),
            "the queue depth never appeared in a scrape", QueueDepthGauge.SamplePeriod * 3);
    }

    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var result = await Host.Scenario(x => x.Get.Url("/metrics"));
        var text = await result.ReadAsTextAsync();
        // Only the service's own series: the framework's meters (ASP.NET Core's, per host) are shared by every host
        // of the test process, so another test class's host can make them appear twice in this scrape.
        return SampleLine().Matches(text)
            .Where(m => m.Groups["series"].Value.StartsWith("usage_slices_", StringComparison.Ordinal))
            .ToDictionary(m => m.Groups["series"].Value, m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>How much every series named <paramref name="metric"/> and labelled with <paramref name="label"/> grew.</summary>
    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string metric, string label) =>
        after.Where(s => (s.Key == metric || s.Key.StartsWith(metric + "{", StringComparison.Ordinal)) && s.Key.Contains(label))
            .Sum(s => s.Value - before.GetValueOrDefault(s.Key));

    [GeneratedRegex(@"^(?<series>[a-z_]+(\{[^}]*\})?) (?<value>[-0-9.e+]+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
