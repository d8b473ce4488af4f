namespace UsageSlices.Domain;

/// <summary>On the organisation's stream: an admin gave it <paramref name="Limit"/> of a feature instead of its tier's, until <paramref name="ExpiresAt"/>.</summary>
public sealed record LimitOverrideGranted(
    string Feature, TierLimit Limit, DateTimeOffset? ExpiresAt, string? Reason, string Actor, DateTimeOffset GrantedAt, TierLimit? Replaced);

/// <summary>On the organisation's stream: an admin ended an override before it expired.</summary>
public sealed record LimitOverrideRevoked(string Feature, TierLimit Limit, string? Reason, string Actor, DateTimeOffset RevokedAt);

/// <summary>On the organisation's stream: an override reached its <c>expiresAt</c>, recorded by the service itself.</summary>
public sealed record LimitOverrideExpired(string Feature, TierLimit Limit, DateTimeOffset ExpiredAt, DateTimeOffset GrantedAt, string Actor);

/// <summary>
/// A per-organisation entitlement: <see cref="Limit"/> replaces the tier's limit of <see cref="Feature"/> while it is
/// active. Keyed <c>{orgId}:{feature}</c>, so a second grant replaces the first; an expired one stays (listed with
/// <c>includeExpired</c>) until it is replaced or revoked.
/// </summary>
public sealed class LimitOverride
{
    public required string Id { get; set; }
    public required string OrgId { get; set; }
    public required string Feature { get; set; }
    public TierLimit Limit { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public string? Reason { get; set; }
    public required string GrantedBy { get; set; }
    public DateTimeOffset GrantedAt { get; set; }

    /// <summary>When the service recorded <see cref="LimitOverrideExpired"/> for this grant; <c>null</c> until then.</summary>
    public DateTimeOffset? ExpiryRecordedAt { get; set; }

    public static string KeyFor(string orgId, string feature) => $"{orgId}:{feature}";

    public bool IsActiveAt(DateTimeOffset now) => ExpiresAt is not { } expiresAt || now < expiresAt;

    public static LimitOverride From(string orgId, LimitOverrideGranted granted) => new()
    {
        Id = KeyFor(orgId, granted.Feature),
        OrgId = orgId,
        Feature = granted.Feature,
        Limit = granted.Limit,
        ExpiresAt = granted.ExpiresAt,
        Reason = granted.Reason,
        GrantedBy = granted.Actor,
        GrantedAt = granted.GrantedAt,
    };
}

/// <summary>Due at an override's <c>expiresAt</c>: record that it expired (the limit already stopped applying, by the clock).</summary>
/// <param name="GrantedAt">Which grant: one that replaced it since is not the one that expired.</param>
public sealed record OverrideExpiryDue(string OrgId, string Feature, DateTimeOffset GrantedAt) : IForOrganisation;

/// <summary>An override as the API shows it.</summary>
/// <param name="Active">Whether it applies now; <c>false</c> only in a listing that includes expired overrides.</param>
public sealed record LimitOverrideView(
    string OrgId, string Feature, TierLimit Limit, bool Unlimited, DateTimeOffset? ExpiresAt, string? Reason, string GrantedBy, DateTimeOffset GrantedAt, bool Active)
{
    public static LimitOverrideView Of(LimitOverride limitOverride, DateTimeOffset now) => new(
        limitOverride.OrgId, limitOverride.Feature, limitOverride.Limit, limitOverride.Limit is { IsFlag: false, Max: null },
        limitOverride.ExpiresAt, limitOverride.Reason, limitOverride.GrantedBy, limitOverride.GrantedAt, limitOverride.IsActiveAt(now));
}
