using System.Net;
using Alba;
using Marten;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.AnnouncingThresholds;

public sealed class when_usage_crosses_a_threshold(AppFixture app, SecondInstance second) : ApiTest(app), IClassFixture<SecondInstance>
{
    [Fact]
    public async Task each_threshold_is_announced_once_when_a_track_first_reaches_it()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 39);
        (await CrossingsAsync()).ShouldBeEmpty();

        await TrackAsync("acme", "AI_MESSAGES", 1);
        await TrackAsync("acme", "AI_MESSAGES", 9);
        await TrackAsync("acme", "AI_MESSAGES", 1);
        await TrackAsync("acme", "AI_MESSAGES", 5);

        var crossings = await CrossingsAsync();
        crossings.Select(c => (c.Threshold, c.Used, c.Limit)).ShouldBe([(80, 40L, 50L), (100, 50L, 50L)]);
        crossings.ShouldAllBe(c => c.OrgId == "acme" && c.Feature == "AI_MESSAGES" && c.PeriodStart != null);
    }

    [Fact]
    public async Task one_change_that_crosses_two_thresholds_announces_both()
    {
        await RegisterAsync("acme");

        await TrackAsync("acme", "AI_MESSAGES", 60);

        (await CrossingsAsync()).Select(c => c.Threshold).ShouldBe([80, 100]);
    }

    [Fact]
    public async Task the_next_period_announces_again()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 40);
        Clock.Advance((DateTimeOffset)(await CheckAsync("acme", "AI_MESSAGES"))["periodEnd"]! - Clock.GetUtcNow() + TimeSpan.FromMinutes(1));

        await TrackAsync("acme", "AI_MESSAGES", 40);

        var crossings = await CrossingsAsync();
        crossings.Select(c => c.Threshold).ShouldBe([80, 80]);
        crossings.Select(c => c.PeriodStart).Distinct().Count().ShouldBe(2);
    }

    [Fact]
    public async Task an_allocation_is_announced_again_only_after_it_fell_back_below()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "TEAM_MEMBERS", 8);
        await TrackAsync("acme", "TEAM_MEMBERS", 1);
        await TrackAsync("acme", "TEAM_MEMBERS", -1);
        await TrackAsync("acme", "TEAM_MEMBERS", 1);
        (await CrossingsAsync()).Select(c => c.Threshold).ShouldBe([80]);

        await TrackAsync("acme", "TEAM_MEMBERS", -2);
        await TrackAsync("acme", "TEAM_MEMBERS", 2);

        (await CrossingsAsync()).Select(c => (c.Threshold, c.Used)).ShouldBe([(80, 8L), (80, 9L)]);
        await using var session = Store.QuerySession();
        (await session.Events.QueryRawEventDataOnly<UsageThresholdRearmed>().ToListAsync(Cancel)).ShouldHaveSingleItem().Used.ShouldBe(7);
    }

    [Fact]
    public async Task the_effective_limit_decides_and_an_unlimited_or_absent_feature_announces_nothing()
    {
        await RegisterAsync("acme", "business");
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 100 });
        await TrackAsync("acme", "INVOICES", 100_000);
        await TrackAsync("acme", "API_CALLS", 1);
        await TrackAsync("acme", "AI_MESSAGES", 79);
        (await CrossingsAsync()).ShouldBeEmpty();

        await TrackAsync("acme", "AI_MESSAGES", 1);

        (await CrossingsAsync()).ShouldHaveSingleItem().Limit.ShouldBe(100);
    }

    [Fact]
    public async Task a_tier_chooses_its_thresholds()
    {
        await Host.Scenario(x =>
        {
            x.Put.Json(new { name = "Team", priceMonthly = 49, limits = new Dictionary<string, long> { ["AI_MESSAGES"] = 10 }, alertThresholds = new[] { 100, 50 } }).ToUrl("/api/v1/tiers/team");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });
        await RegisterAsync("acme", "team");

        await TrackAsync("acme", "AI_MESSAGES", 8);

        (await CrossingsAsync()).Select(c => c.Threshold).ShouldBe([50]);
    }

    [Fact]
    public async Task a_batch_a_queued_track_and_a_commit_announce_as_a_track_does()
    {
        await RegisterAsync("batch");
        await RegisterAsync("queued");
        await RegisterAsync("held");

        await Host.Scenario(x =>
        {
            x.Post.Json(new { events = new[] { new { orgId = "batch", feature = "AI_MESSAGES", quantity = 45, idempotencyKey = "b-1" } } }).ToUrl("/api/v1/usage/events:batch");
            x.WithBearerToken(AdminToken);
        });
        await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", quantity = 41 }).ToUrl("/api/v1/usage/queued/track");
            x.WithBearerToken(TokenFor("queued"));
            x.WithRequestHeader("Prefer", "respond-async");
            x.StatusCodeShouldBe(202);
        });
        var hold = (string)(await ReserveAsync("held", "AI_MESSAGES", 30))["reservationId"]!;
        await CommitAsync("held", hold, 50);

        await Eventually.WaitUntilAsync(async () => (await CrossingsAsync()).Count == 4, "The queued track's crossing was never announced.");
        (await CrossingsAsync()).Select(c => (c.OrgId, c.Threshold)).Order().ShouldBe([("batch", 80), ("held", 80), ("held", 100), ("queued", 80)]);
    }

    [Fact]
    public async Task a_burst_of_concurrent_tracks_from_two_instances_announces_each_crossing_once()
    {
        await RegisterAsync("acme", "starter");
        await TrackAsync("acme", "DOCUMENT_SCANS", 150);
        IAlbaHost[] instances = [Host, second.Host];

        var statuses = await TrackConcurrentlyAsync(instances, "acme", 100, _ => new { feature = "DOCUMENT_SCANS", quantity = 1 });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        var crossings = await CrossingsAsync();
        crossings.Select(c => (c.Threshold, c.Used)).ShouldBe([(80, 160L), (100, 200L)]);
    }

    private async Task<List<UsageThresholdCrossed>> CrossingsAsync()
    {
        await using var session = Store.QuerySession();
        var crossings = await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "usage_threshold_crossed").OrderBy(e => e.Sequence).ToListAsync(Cancel);
        return [.. crossings.Select(e => (UsageThresholdCrossed)e.Data)];
    }
}
