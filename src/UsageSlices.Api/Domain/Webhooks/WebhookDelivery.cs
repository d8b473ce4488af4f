using System.Security.Cryptography;

namespace UsageSlices.Domain.Webhooks;

public enum WebhookDeliveryStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>One try to hand an event to an endpoint.</summary>
public sealed record WebhookAttempt(DateTimeOffset At, int? StatusCode, long DurationMs, string? Error);

/// <summary>
/// One event on its way to one endpoint: its body, fixed when the event was raised, and every attempt. Keyed by a
/// name-based id of (event, endpoint), so a redelivered event creates no second delivery.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid WebhookId { get; set; }
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    public required string MessageId { get; set; }
    public required string Body { get; set; }
    public WebhookDeliveryStatus Status { get; set; }
    public List<WebhookAttempt> Attempts { get; set; } = [];
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public static Guid IdFor(Guid eventId, Guid webhookId)
    {
        Span<byte> both = stackalloc byte[32];
        eventId.TryWriteBytes(both[..16]);
        webhookId.TryWriteBytes(both[16..]);
        return new Guid(SHA256.HashData(both)[..16]);
    }

    public static WebhookDelivery For(WebhookEventRaised raised, WebhookEndpoint endpoint, DateTimeOffset now) => new()
    {
        Id = IdFor(raised.EventId, endpoint.Id),
        WebhookId = endpoint.Id,
        EventId = raised.EventId,
        EventType = raised.Type,
        MessageId = raised.MessageId,
        Body = raised.Body,
        Status = WebhookDeliveryStatus.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
    };
}

/// <summary>Try (again) to deliver one delivery; durable, so a crash between the commit and the send loses nothing.</summary>
public sealed record DeliverWebhook(Guid DeliveryId);

/// <summary>What to do after an attempt, by the rules of DESIGN.md: 2xx delivered, 410 disables the endpoint, else retry on the schedule, then failed.</summary>
public static class WebhookRetries
{
    /// <summary>Up to a fifth of the wait, either way, so that receivers that fail together are not retried together.</summary>
    public const double Jitter = 0.2;

    public static bool Succeeded(int? statusCode) => statusCode is >= 200 and < 300;

    public static bool Gone(int? statusCode) => statusCode == 410;

    /// <summary>When to try again after <paramref name="attempts"/> failed attempts, or <c>null</c> when the schedule is spent.</summary>
    public static DateTimeOffset? NextAttempt(IReadOnlyList<TimeSpan> schedule, int attempts, DateTimeOffset now, double random)
    {
        if (attempts > schedule.Count)
            return null;
        var wait = schedule[attempts - 1];
        return now + (wait * (1 + (Jitter * ((2 * random) - 1))));
    }
}
