using System.Security.Cryptography;

namespace UsageSlices.Domain.Webhooks;

/// <summary>The events a webhook endpoint can subscribe to (DESIGN.md Part 2), as their <c>type</c> is written.</summary>
public static class WebhookEventTypes
{
    public const string ThresholdCrossed = "usage.threshold.crossed";
    public const string TierAssigned = "organisation.tier.assigned";
    public const string OverrideGranted = "override.granted";
    public const string OverrideRevoked = "override.revoked";
    public const string OverrideExpired = "override.expired";
    public const string ReservationExpired = "reservation.expired";
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<string> All =
        [ThresholdCrossed, TierAssigned, OverrideGranted, OverrideRevoked, OverrideExpired, ReservationExpired, Test];
}

/// <summary>A receiver of webhook events, registered by an admin; stored as a Marten document keyed by its id.</summary>
public sealed class WebhookEndpoint
{
    public const string SecretPrefix = "whsec_";

    public Guid Id { get; set; }
    public required string Url { get; set; }

    /// <summary>The event types it receives; empty: all of them.</summary>
    public IReadOnlyList<string> EventTypes { get; set; } = [];

    /// <summary>The one organisation whose events it receives; <c>null</c>: every organisation's.</summary>
    public string? OrgId { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;

    /// <summary>Why it was disabled by the service (a receiver that answered 410 Gone), if it was.</summary>
    public string? DisabledReason { get; set; }

    /// <summary>The Standard Webhooks signing secret: <c>whsec_</c> and the base64 of its key bytes.</summary>
    public required string Secret { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public bool Receives(string eventType, string? orgId) =>
        Enabled && (EventTypes.Count == 0 || EventTypes.Contains(eventType)) && (OrgId is null || OrgId == orgId);

    /// <summary>24 random bytes, as Standard Webhooks recommends (at least 24, at most 64).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
}

/// <summary>An endpoint as the API lists it: never its secret.</summary>
public sealed record WebhookEndpointView(
    Guid Id, string Url, IReadOnlyList<string> EventTypes, string? OrgId, string? Description, bool Enabled, string? DisabledReason, DateTimeOffset CreatedAt)
{
    public static WebhookEndpointView Of(WebhookEndpoint endpoint) => new(
        endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.OrgId, endpoint.Description, endpoint.Enabled, endpoint.DisabledReason, endpoint.CreatedAt);
}

/// <summary>An endpoint with its secret: the answer to creating it or rotating its secret, the only times the secret is shown.</summary>
public sealed record WebhookEndpointWithSecret(
    Guid Id, string Url, IReadOnlyList<string> EventTypes, string? OrgId, string? Description, bool Enabled, string Secret, DateTimeOffset CreatedAt)
{
    public static WebhookEndpointWithSecret Of(WebhookEndpoint endpoint) => new(
        endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.OrgId, endpoint.Description, endpoint.Enabled, endpoint.Secret, endpoint.CreatedAt);
}
