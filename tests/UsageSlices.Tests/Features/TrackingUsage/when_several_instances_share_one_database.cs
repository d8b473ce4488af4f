using System.Net;
using Alba;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_several_instances_share_one_database(AppFixture app, SecondInstance second) : ApiTest(app), IClassFixture<SecondInstance>
{
    private IAlbaHost[] Instances => [Host, second.Host];

    [Fact]
    public async Task five_hundred_concurrent_enforce_mode_tracks_against_one_hundred_remaining_admit_exactly_one_hundred()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "DOCUMENT_SCANS", 900);

        var statuses = await TrackConcurrentlyAsync(Instances, "acme", 500, _ => new { feature = "DOCUMENT_SCANS", quantity = 1, enforce = true });

        statuses.Count(status => status == HttpStatusCode.OK).ShouldBe(100);
        statuses.Count(status => status == HttpStatusCode.PaymentRequired).ShouldBe(400);
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(1_000);
    }

    [Fact]
    public async Task one_thousand_concurrent_record_mode_tracks_count_exactly_one_thousand()
    {
        await RegisterAsync("acme", "business");

        var statuses = await TrackConcurrentlyAsync(Instances, "acme", 1_000, _ => new { feature = "AI_MESSAGES", quantity = 1 });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(1_000);
    }

    [Fact]
    public async Task one_idempotency_key_sent_to_both_instances_at_once_counts_once()
    {
        await RegisterAsync("acme");

        var statuses = await TrackConcurrentlyAsync(Instances, "acme", 40, _ => new { feature = "AI_MESSAGES", quantity = 3, idempotencyKey = "one-key" });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(3);
    }
}
