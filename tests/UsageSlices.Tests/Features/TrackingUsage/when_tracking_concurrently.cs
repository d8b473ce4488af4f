using System.Net;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_tracking_concurrently(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task one_hundred_concurrent_record_mode_tracks_count_exactly_one_hundred()
    {
        await RegisterAsync("acme", tier: "business");

        var statuses = await TrackConcurrentlyAsync([Host], "acme", 100, i => new { feature = "AI_MESSAGES", quantity = 1 });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(100);
    }

    [Fact]
    public async Task one_hundred_concurrent_enforce_mode_tracks_against_ten_remaining_admit_exactly_ten()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 40);

        var statuses = await TrackConcurrentlyAsync([Host], "acme", 100, i => new { feature = "AI_MESSAGES", quantity = 1, enforce = true });

        statuses.Count(status => status == HttpStatusCode.OK).ShouldBe(10);
        statuses.Count(status => status == HttpStatusCode.PaymentRequired).ShouldBe(90);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(50);
    }

    [Fact]
    public async Task one_idempotency_key_sent_fifty_times_at_once_counts_once()
    {
        await RegisterAsync("acme");

        var statuses = await TrackConcurrentlyAsync([Host], "acme", 50, i => new { feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "same-key" });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }
}
