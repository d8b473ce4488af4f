using System.Text.Json.Nodes;
using Marten;
using Shouldly;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.DeliveringWebhooks;

public sealed class when_webhooks_announce_expiries(AppFixture app) : ApiTest(app), IAsyncDisposable
{
    private WebhookReceiver? receiver;

    [Fact]
    public async Task an_expired_override_and_an_expired_reservation_are_announced()
    {
        receiver = await WebhookReceiver.StartAsync();
        await Host.Scenario(x =>
        {
            x.Post.Json(new { url = receiver.Url.ToString(), eventTypes = new[] { "override.expired", "reservation.expired" } }).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });
        await RegisterAsync("acme");

        // Both end by the real clock, which Wolverine's scheduler follows.
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 200, expiresAt = DateTimeOffset.UtcNow.AddSeconds(1) });
        var hold = (string)(await ReserveAsync("acme", "AI_MESSAGES", 7, expiresInSeconds: 1))["reservationId"]!;

        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 2, "Both expiries were not announced.", TimeSpan.FromSeconds(30));
        var bodies = receiver.Received.Select(r => JsonNode.Parse(r.Body)!).ToDictionary(b => (string)b["type"]!);
        var expiredOverride = bodies["override.expired"]["data"]!;
        ((string)expiredOverride["orgId"]!, (string)expiredOverride["feature"]!, (long)expiredOverride["limit"]!).ShouldBe(("acme", "AI_MESSAGES", 200L));
        var expiredHold = bodies["reservation.expired"]["data"]!;
        ((string)expiredHold["reservationId"]!, (string)expiredHold["orgId"]!, (long)expiredHold["quantity"]!).ShouldBe((hold, "acme", 7L));
    }

    [Fact]
    public async Task a_delivery_is_refused_at_connect_time_when_its_address_is_private_and_private_networks_are_off()
    {
        receiver = await WebhookReceiver.StartAsync();
        // Registered by an instance that allows private networks; delivered by one that does not.
        var webhook = (string)(await BodyOf(await Host.Scenario(x =>
        {
            x.Post.Json(new { url = receiver.Url.ToString() }).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        })))["id"]!;
        await using var strict = await AppFixture.StartHostAsync(new Dictionary<string, string> { ["Webhooks:AllowPrivateNetworks"] = "false", ["Webhooks:RetrySchedule"] = "1m" });

        await strict.Scenario(x => { x.Post.Url($"/api/v1/webhooks/{webhook}/test"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(202); });

        // The first attempt is the strict instance's own (its local queue); a retry is scheduled, and any instance may
        // take it, the permissive one included, so only the first attempt is the strict instance's for certain.
        await using var session = Store.QuerySession();
        await Eventually.WaitUntilAsync(
            async () => (await session.Query<WebhookDelivery>().SingleAsync(Cancel)).Attempts.Count > 0,
            "The delivery was never attempted.", TimeSpan.FromSeconds(30));
        var first = (await session.Query<WebhookDelivery>().SingleAsync(Cancel)).Attempts[0];
        first.StatusCode.ShouldBeNull();
        first.Error.ShouldNotBeNull().ShouldContain("127.0.0.1, a loopback, private, link-local or metadata address; not sent");
        receiver.Received.Where(r => r.ReceivedAt <= first.At.AddMilliseconds(first.DurationMs)).ShouldBeEmpty();
    }

    public new async ValueTask DisposeAsync()
    {
        if (receiver is not null)
            await receiver.DisposeAsync();
    }
}
