using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

[Collection(nameof(AppCollection))]
public sealed class when_the_service_dies_while_delivering_a_webhook
{
    private const string Schema = "usage_slices_hooks";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task the_event_committed_before_the_crash_is_delivered_after_the_restart_with_the_same_webhook_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var service = new ServiceProcess(Schema, settings: new Dictionary<string, string>
        {
            // The receiver listens on loopback, which production settings refuse.
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Webhooks__RetrySchedule"] = "1s,1s,1s",
        });
        await service.StartAsync(Cancel);
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var admin = service.Tokens.Mint("hooks-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        var orgId = $"hooks-{Guid.NewGuid():N}";
        (await ServiceProcess.SendAsync(client, HttpMethod.Put, $"/api/v1/organisations/{orgId}", admin, new { slug = orgId, name = "Hooks" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        using var registered = await ServiceProcess.SendAsync(client, HttpMethod.Post, "/api/v1/webhooks", admin, new { url = receiver.Url.ToString(), orgId });
        registered.StatusCode.ShouldBe(HttpStatusCode.Created);
        var webhookId = (string)JsonNode.Parse(await registered.Content.ReadAsStringAsync(Cancel))!["id"]!;
        var token = service.Tokens.Mint("hooks-test", orgId, [Scopes.Read, Scopes.Write], TimeSpan.FromHours(1));

        // The crossing is committed with the track; its delivery reaches the receiver, which never answers, and the service dies waiting.
        receiver.HoldNextRequest();
        (await ServiceProcess.SendAsync(client, HttpMethod.Post, $"/api/v1/usage/{orgId}/track", token, new { feature = "AI_MESSAGES", quantity = 40 })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 1, "The delivery never reached the receiver.");
        service.Kill();
        (await DeliveryStatusAsync(webhookId)).ShouldBe("Pending");

        await service.StartAsync(Cancel);

        await Eventually.WaitUntilAsync(async () => await DeliveryStatusAsync(webhookId) == "Delivered", "The delivery was not completed after the restart.", TimeSpan.FromSeconds(60));
        receiver.Received.Count.ShouldBeGreaterThanOrEqualTo(2);
        receiver.Received.Select(r => r.Id).Distinct().ShouldHaveSingleItem();
        ((int)JsonNode.Parse(receiver.Received[^1].Body)!["data"]!["threshold"]!).ShouldBe(80);
    }

    /// <summary>The statuses of this endpoint's deliveries (the schema outlives a run, so earlier runs' deliveries may be there).</summary>
    private static async Task<string?> DeliveryStatusAsync(string webhookId)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var status = new NpgsqlCommand(
            $"select string_agg(data ->> 'status', ',') from {Schema}.mt_doc_webhookdelivery where data ->> 'webhookId' = @webhook", connection);
        status.Parameters.AddWithValue("webhook", webhookId);
        return (string?)await status.ExecuteScalarAsync(Cancel);
    }
}
