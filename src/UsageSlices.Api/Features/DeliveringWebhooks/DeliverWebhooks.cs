using System.Diagnostics;
using System.Text;
using Marten;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.DeliveringWebhooks;

/// <summary>
/// An event raised in a committed transaction (forwarded by Marten through Wolverine's outbox) becomes one delivery
/// per endpoint that receives it, each sent by its own durable message.
/// </summary>
public static class WebhookEventRaisedHandler
{
    public const string EventQueue = "webhook-events";
    public const string DeliveryQueue = "webhook-deliveries";

    public static void RouteWebhooks(this WolverineOptions options)
    {
        options.PublishMessage<WebhookEventRaised>().ToLocalQueue(EventQueue).UseDurableInbox();
        options.PublishMessage<DeliverWebhook>().ToLocalQueue(DeliveryQueue).UseDurableInbox();
    }

    /// <summary>
    /// An event delivered twice (at least once, after a crash) finds its deliveries made and makes none again. With
    /// shards, endpoints and deliveries are the main database's: an event raised in another shard (in that shard's
    /// outbox, with the change) is handed over to the main database, durably, and made into deliveries there.
    /// </summary>
    public static async Task<OutgoingMessages> Handle(WebhookEventRaised raised, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        if (session.ShardOf() != Shards.Main)
            return [raised.WithTenantId(Shards.Main)];
        var endpoints = (await session.Query<WebhookEndpoint>().Where(e => e.Enabled).ToListAsync(cancellation))
            .Where(endpoint => endpoint.Receives(raised.Type, raised.OrgId)).ToList();
        if (endpoints.Count == 0)
            return [];
        var made = (await session.LoadManyAsync<WebhookDelivery>(cancellation, endpoints.Select(e => WebhookDelivery.IdFor(raised.EventId, e.Id))))
            .Select(delivery => delivery.Id).ToHashSet();

        var now = time.GetUtcNow();
        var sends = new OutgoingMessages();
        foreach (var delivery in endpoints.Select(endpoint => WebhookDelivery.For(raised, endpoint, now)).Where(d => !made.Contains(d.Id)))
        {
            session.Insert(delivery);
            sends.Add(new DeliverWebhook(delivery.Id));
        }

        return sends;
    }
}

/// <summary>
/// One attempt: POST the body with the Standard Webhooks headers, record what happened, then decide — delivered,
/// endpoint gone (410 disables it), a retry scheduled on <c>Webhooks:RetrySchedule</c>, or failed for good.
/// </summary>
public static class DeliverWebhookHandler
{
    public static async Task<OutgoingMessages> Handle(
        DeliverWebhook message, IDocumentSession session, IHttpClientFactory clients, WebhookSettings settings, TimeProvider time, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookDelivery>(message.DeliveryId, cancellation) is not { Status: WebhookDeliveryStatus.Pending } delivery)
            return [];
        var endpoint = await session.LoadAsync<WebhookEndpoint>(delivery.WebhookId, cancellation);
        var now = time.GetUtcNow();
        var retry = new OutgoingMessages();
        if (endpoint is not { Enabled: true })
        {
            Record(delivery, new WebhookAttempt(now, null, 0, endpoint is null ? "The endpoint was deleted; not sent." : "The endpoint is disabled; not sent."), null);
            session.Store(delivery);
            return retry;
        }

        var attempt = await SendAsync(clients.CreateClient(WebhookHttp.ClientName), endpoint, delivery, now, cancellation);
        UsageMetrics.WebhookAttempted(delivery.EventType, attempt);
        DateTimeOffset? next = null;
        if (WebhookRetries.Gone(attempt.StatusCode))
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = $"The receiver answered 410 Gone at {now:O}.";
            session.Store(endpoint);
        }
        else if (!WebhookRetries.Succeeded(attempt.StatusCode))
        {
            next = WebhookRetries.NextAttempt(settings.RetrySchedule, delivery.Attempts.Count + 1, now, Random.Shared.NextDouble());
        }

        Record(delivery, attempt, next);
        if (next is { } at)
            retry.Schedule(new DeliverWebhook(delivery.Id), at);
        session.Store(delivery);
        return retry;
    }

    private static void Record(WebhookDelivery delivery, WebhookAttempt attempt, DateTimeOffset? next)
    {
        delivery.Attempts.Add(attempt);
        delivery.NextAttemptAt = next;
        delivery.Status = WebhookRetries.Succeeded(attempt.StatusCode) ? WebhookDeliveryStatus.Delivered
            : next is null ? WebhookDeliveryStatus.Failed
            : WebhookDeliveryStatus.Pending;
        if (delivery.Status == WebhookDeliveryStatus.Failed)
            UsageMetrics.WebhookFailed(delivery.EventType);
    }

    private static async Task<WebhookAttempt> SendAsync(
        HttpClient client, WebhookEndpoint endpoint, WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellation)
    {
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.MessageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(endpoint.Secret, delivery.MessageId, timestamp, delivery.Body));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            return new WebhookAttempt(now, (int)response.StatusCode, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (HttpRequestException exception)
        {
            // A refusal of the SSRF rule at connect time arrives wrapped in the handler's own exception: report the rule's words.
            var reason = (exception.InnerException as HttpRequestException)?.Message ?? exception.Message;
            return new WebhookAttempt(now, null, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, reason);
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new WebhookAttempt(now, null, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, $"No answer within {client.Timeout.TotalSeconds:0} s (Webhooks:Timeout).");
        }
    }
}
