using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Shouldly;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.DeliveringWebhooks;

public sealed class when_webhooks_are_delivered(AppFixture app, SecondInstance second) : ApiTest(app), IClassFixture<SecondInstance>, IAsyncDisposable
{
    private readonly List<WebhookReceiver> receivers = [];

    [Fact]
    public async Task a_threshold_crossing_reaches_the_receiver_signed_as_standard_webhooks_prescribes()
    {
        var receiver = await ReceiverAsync();
        var secret = (string)(await RegisterWebhookAsync(new { url = receiver.Url.ToString(), eventTypes = new[] { "usage.threshold.crossed" } }))["secret"]!;
        await RegisterAsync("acme");

        await TrackAsync("acme", "AI_MESSAGES", 40);
        var committed = DateTimeOffset.UtcNow;

        var got = await OneAsync(receiver);
        TestContext.Current.TestOutputHelper?.WriteLine($"delivered {(got.ReceivedAt - committed).TotalMilliseconds:0} ms after the track returned");
        got.Id.ShouldStartWith("msg_");
        long.Parse(got.Timestamp).ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        // Standard Webhooks 1.0: base64 HMAC-SHA256, keyed by the secret's bytes after "whsec_", over "{id}.{timestamp}.{body}".
        var expected = Convert.ToBase64String(HMACSHA256.HashData(
            Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{got.Id}.{got.Timestamp}.{got.Body}")));
        got.Signature.ShouldBe($"v1,{expected}");
        var body = JsonNode.Parse(got.Body)!;
        ((string)body["type"]!).ShouldBe("usage.threshold.crossed");
        ((DateTimeOffset)body["timestamp"]!).ShouldBeInRange(committed.AddMinutes(-1), committed.AddMinutes(1));
        var data = body["data"]!;
        ((string)data["orgId"]!, (string)data["feature"]!, (int)data["threshold"]!, (long)data["used"]!, (long)data["limit"]!).ShouldBe(("acme", "AI_MESSAGES", 80, 40L, 50L));
        data["periodStart"].ShouldNotBeNull();
        data["periodEnd"].ShouldNotBeNull();
    }

    [Fact]
    public async Task a_receiver_that_fails_twice_gets_three_attempts_with_one_webhook_id()
    {
        var receiver = await ReceiverAsync();
        receiver.AnswerWith(500, 500);
        var webhook = (string)(await RegisterWebhookAsync(new { url = receiver.Url.ToString() }))["id"]!;
        await RegisterAsync("acme");

        await TrackAsync("acme", "AI_MESSAGES", 40);

        await Eventually.WaitUntilAsync(() => receiver.Received.Count >= 3, "The receiver did not get three attempts.", TimeSpan.FromSeconds(30));
        receiver.Received.Select(r => r.Id).Distinct().ShouldHaveSingleItem();
        receiver.Received.Select(r => r.Body).Distinct().ShouldHaveSingleItem();
        var deliveries = await DeliveriesAsync(webhook);
        await Eventually.WaitUntilAsync(async () => (string?)(await DeliveriesAsync(webhook))[0]!["status"] == "delivered", "The delivery was never marked delivered.");
        var delivery = (await DeliveriesAsync(webhook)).ShouldHaveSingleItem()!;
        delivery["attempts"]!.AsArray().Select(a => (int?)a!["statusCode"]).ShouldBe([500, 500, 200]);
        ((string)delivery["webhookMessageId"]!).ShouldBe(receiver.Received[0].Id);
        deliveries.Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_receiver_that_answers_410_disables_its_endpoint_and_gets_nothing_more()
    {
        var receiver = await ReceiverAsync();
        receiver.AnswerWith(410);
        var webhook = (string)(await RegisterWebhookAsync(new { url = receiver.Url.ToString() }))["id"]!;
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 40);
        await Eventually.WaitUntilAsync(async () => !(bool)(await WebhookAsync(webhook))["enabled"]!, "The endpoint was not disabled.");
        ((string)(await WebhookAsync(webhook))["disabledReason"]!).ShouldContain("410");
        var control = await ReceiverAsync();
        await RegisterWebhookAsync(new { url = control.Url.ToString() });

        await TrackAsync("acme", "AI_MESSAGES", 10);

        await Eventually.WaitUntilAsync(() => control.Received.Count == 1, "The control receiver never got the 100% crossing.");
        receiver.Received.Count.ShouldBe(1);
        ((string?)(await DeliveriesAsync(webhook)).ShouldHaveSingleItem()!["status"]).ShouldBe("failed");
    }

    [Fact]
    public async Task an_endpoint_for_one_organisation_never_receives_another_s_events_and_a_disabled_one_receives_none()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        var acmeOnly = await ReceiverAsync();
        var disabled = await ReceiverAsync();
        var everyone = await ReceiverAsync();
        await RegisterWebhookAsync(new { url = acmeOnly.Url.ToString(), orgId = "acme" });
        var off = (string)(await RegisterWebhookAsync(new { url = disabled.Url.ToString() }))["id"]!;
        await Host.Scenario(x => { x.Patch.Json(new { enabled = false }).ToUrl($"/api/v1/webhooks/{off}"); x.WithBearerToken(AdminToken); });
        await RegisterWebhookAsync(new { url = everyone.Url.ToString() });

        await TrackAsync("rival", "AI_MESSAGES", 40);
        await Eventually.WaitUntilAsync(() => everyone.Received.Count == 1, "The receiver of every organisation never got rival's crossing.");
        await TrackAsync("acme", "AI_MESSAGES", 40);
        await Eventually.WaitUntilAsync(() => everyone.Received.Count == 2 && acmeOnly.Received.Count == 1, "acme's crossing did not reach both receivers.");

        ((string)JsonNode.Parse(acmeOnly.Received.ShouldHaveSingleItem().Body)!["data"]!["orgId"]!).ShouldBe("acme");
        disabled.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task a_burst_of_concurrent_tracks_from_two_instances_sends_each_crossing_once()
    {
        var receiver = await ReceiverAsync();
        await RegisterWebhookAsync(new { url = receiver.Url.ToString(), eventTypes = new[] { "usage.threshold.crossed" } });
        await RegisterAsync("acme", "starter");
        IAlbaHost[] instances = [Host, second.Host];

        var statuses = await TrackConcurrentlyAsync(instances, "acme", 250, _ => new { feature = "DOCUMENT_SCANS", quantity = 1 });

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        await Eventually.WaitUntilAsync(() => receiver.Received.Count >= 2, "The two crossings were not both delivered.");
        await using var session = Store.QuerySession();
        await Eventually.WaitUntilAsync(
            async () => await session.Query<WebhookDelivery>().CountAsync(d => d.Status == WebhookDeliveryStatus.Delivered, Cancel) == 2,
            "The deliveries were not both marked delivered.");
        receiver.Received.Select(r => (int)JsonNode.Parse(r.Body)!["data"]!["threshold"]!).Order().ShouldBe([80, 100]);
        receiver.Received.Select(r => r.Id).Distinct().Count().ShouldBe(2);
    }

    [Fact]
    public async Task tier_changes_and_overrides_are_announced_and_a_test_event_goes_to_one_endpoint()
    {
        var receiver = await ReceiverAsync();
        var webhook = (string)(await RegisterWebhookAsync(new { url = receiver.Url.ToString(), eventTypes = new[] { "organisation.tier.assigned", "override.granted", "override.revoked", "webhook.test" } }))["id"]!;
        await RegisterAsync("acme");

        await Host.Scenario(x => { x.Put.Json(new { tier = "pro", reason = "Upgrade" }).ToUrl("/api/v1/usage/acme/tier"); x.WithBearerToken(Mint("ops", null, Scopes.Admin)); });
        await GrantOverrideAsync("acme", "AI_MESSAGES", new { limit = 9_000 });
        await Host.Scenario(x => { x.Delete.Url("/api/v1/organisations/acme/overrides/AI_MESSAGES"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(204); });
        var test = await BodyOf(await Host.Scenario(x => { x.Post.Url($"/api/v1/webhooks/{webhook}/test"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(202); }));

        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 4, "Not every event reached the receiver.");
        var bodies = receiver.Received.Select(r => JsonNode.Parse(r.Body)!).ToList();
        bodies.Select(b => (string)b["type"]!).Order().ShouldBe(["organisation.tier.assigned", "override.granted", "override.revoked", "webhook.test"]);
        var assigned = bodies.Single(b => (string)b["type"]! == "organisation.tier.assigned")["data"]!;
        ((string)assigned["orgId"]!, (string)assigned["previousTier"]!, (string)assigned["tier"]!, (string)assigned["actor"]!, (string)assigned["reason"]!)
            .ShouldBe(("acme", "free", "pro", "ops", "Upgrade"));
        ((long)bodies.Single(b => (string)b["type"]! == "override.granted")["data"]!["limit"]!).ShouldBe(9_000);
        receiver.Received.Single(r => r.Body.Contains("webhook.test")).Id.ShouldBe((string)test["webhookMessageId"]!);
    }

    [Fact]
    public async Task a_delivery_can_be_retried_by_hand_with_the_same_webhook_id()
    {
        var receiver = await ReceiverAsync();
        receiver.AnswerWith(500, 500, 500, 500);
        var webhook = (string)(await RegisterWebhookAsync(new { url = receiver.Url.ToString() }))["id"]!;
        await Host.Scenario(x => { x.Post.Url($"/api/v1/webhooks/{webhook}/test"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(202); });
        await Eventually.WaitUntilAsync(async () => (string?)(await DeliveriesAsync(webhook))[0]!["status"] == "failed", "The delivery never failed.", TimeSpan.FromSeconds(30));
        var delivery = (string)(await DeliveriesAsync(webhook))[0]!["id"]!;

        await Host.Scenario(x => { x.Post.Url($"/api/v1/webhooks/{webhook}/deliveries/{delivery}/retry"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(202); });

        await Eventually.WaitUntilAsync(async () => (string?)(await DeliveriesAsync(webhook))[0]!["status"] == "delivered", "The retried delivery was not delivered.");
        receiver.Received.Count.ShouldBe(5);
        receiver.Received.Select(r => r.Id).Distinct().ShouldHaveSingleItem();
        await GetProblemAsync($"/api/v1/webhooks/{webhook}/deliveries/{Guid.NewGuid()}/retry", AdminToken, 405);
    }

    public new async ValueTask DisposeAsync()
    {
        foreach (var receiver in receivers)
            await receiver.DisposeAsync();
    }

    private async Task<WebhookReceiver> ReceiverAsync()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receivers.Add(receiver);
        return receiver;
    }

    private async Task<JsonObject> RegisterWebhookAsync(object body) =>
        await BodyOf(await Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        }));

    private async Task<JsonObject> WebhookAsync(string id) =>
        await BodyOf(await Host.Scenario(x => { x.Get.Url($"/api/v1/webhooks/{id}"); x.WithBearerToken(AdminToken); }));

    private async Task<JsonArray> DeliveriesAsync(string id) =>
        (await BodyOf(await Host.Scenario(x => { x.Get.Url($"/api/v1/webhooks/{id}/deliveries"); x.WithBearerToken(AdminToken); })))["deliveries"]!.AsArray();

    private static async Task<ReceivedWebhook> OneAsync(WebhookReceiver receiver)
    {
        await Eventually.WaitUntilAsync(() => receiver.Received.Count > 0, "The receiver got nothing.");
        return receiver.Received.ShouldHaveSingleItem();
    }
}
