using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JasperFx.Events;
using UsageSlices.Domain.Usage;

namespace UsageSlices.Domain.Webhooks;

/// <summary>
/// An event the service announces, as Marten forwards it to Wolverine from the transaction that recorded it (through
/// the outbox): its id is the recorded event's, so a redelivery is recognised, and its body is fixed here, so every
/// attempt to every endpoint sends the same bytes.
/// </summary>
/// <param name="OrgId">The organisation it concerns, for endpoints that receive one organisation's events only.</param>
/// <param name="Body">The Standard Webhooks payload: <c>{type, timestamp, data}</c>.</param>
public sealed record WebhookEventRaised(Guid EventId, string Type, string? OrgId, string Body)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The <c>webhook-id</c> header: the same on every attempt, to every endpoint, so receivers can drop repeats.</summary>
    public string MessageId => $"msg_{EventId:N}";

    public static WebhookEventRaised Of(Guid eventId, string type, string? orgId, DateTimeOffset timestamp, object data) =>
        new(eventId, type, orgId, JsonSerializer.Serialize(new { type, timestamp, data }, Json));

    public static WebhookEventRaised ThresholdCrossed(IEvent<UsageThresholdCrossed> e) =>
        Of(e.Id, WebhookEventTypes.ThresholdCrossed, e.Data.OrgId, e.Timestamp, new
        {
            e.Data.OrgId,
            e.Data.Feature,
            e.Data.Threshold,
            e.Data.Used,
            e.Data.Limit,
            e.Data.PeriodStart,
            e.Data.PeriodEnd,
        });

    public static WebhookEventRaised TierAssigned(IEvent<TierAssigned> e) =>
        Of(e.Id, WebhookEventTypes.TierAssigned, e.StreamKey, e.Timestamp, new
        {
            OrgId = e.StreamKey,
            e.Data.PreviousTier,
            e.Data.Tier,
            e.Data.Actor,
            e.Data.Reason,
        });

    public static WebhookEventRaised OverrideGranted(IEvent<LimitOverrideGranted> e) =>
        Of(e.Id, WebhookEventTypes.OverrideGranted, e.StreamKey, e.Timestamp, LimitOverrideView.Of(LimitOverride.From(e.StreamKey!, e.Data), e.Data.GrantedAt));

    public static WebhookEventRaised OverrideRevoked(IEvent<LimitOverrideRevoked> e) =>
        Of(e.Id, WebhookEventTypes.OverrideRevoked, e.StreamKey, e.Timestamp, new
        {
            OrgId = e.StreamKey,
            e.Data.Feature,
            e.Data.Limit,
            e.Data.Reason,
            RevokedBy = e.Data.Actor,
            e.Data.RevokedAt,
        });

    public static WebhookEventRaised OverrideExpired(IEvent<LimitOverrideExpired> e) =>
        Of(e.Id, WebhookEventTypes.OverrideExpired, e.StreamKey, e.Timestamp, new
        {
            OrgId = e.StreamKey,
            e.Data.Feature,
            e.Data.Limit,
            e.Data.GrantedAt,
            ExpiresAt = e.Data.ExpiredAt,
        });

    /// <summary>A hold the service released at its expiry (its id is the reservation's: a hold expires once); the owner knows of its own commits and releases.</summary>
    public static WebhookEventRaised ReservationExpired(Reservation reservation, DateTimeOffset expiredAt) =>
        Of(reservation.Id, WebhookEventTypes.ReservationExpired, reservation.OrgId, expiredAt, new
        {
            ReservationId = reservation.Id,
            reservation.OrgId,
            reservation.Feature,
            reservation.Quantity,
            reservation.CreatedAt,
            reservation.ExpiresAt,
            reservation.Properties,
        });
}

/// <summary>Standard Webhooks 1.0 signing: <c>v1,</c> and the base64 HMAC-SHA256, keyed by the secret's bytes, of <c>{id}.{timestamp}.{body}</c>.</summary>
public static class WebhookSignature
{
    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(WebhookEndpoint.SecretPrefix, StringComparison.Ordinal) ? secret[WebhookEndpoint.SecretPrefix.Length..] : secret);
        var signature = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.{body}"));
        return $"v1,{Convert.ToBase64String(signature)}";
    }
}
