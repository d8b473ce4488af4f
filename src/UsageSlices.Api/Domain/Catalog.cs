namespace UsageSlices.Domain;

public enum FeatureKind
{
    Metered,
    Allocation,
    Boolean,
}

public enum ResetPeriod
{
    Month,
    Day,
}

/// <summary>A feature of the catalog (the runbook's <c>UsageFeature</c>), stored as a Marten document keyed by its code.</summary>
public sealed record UsageFeature(string Code, string Name, FeatureKind Kind, ResetPeriod? Period)
{
    public bool IsCounted => Kind != FeatureKind.Boolean;
}

/// <summary>A subscription tier, stored as a Marten document keyed by its code.</summary>
/// <param name="Limits">Per feature code: a quota (<c>null</c> = unlimited) or a flag. A feature absent here is not in the tier.</param>
/// <param name="AlertThresholds">Percentages of each finite limit whose crossing is announced; a tier stored before they existed has the default.</param>
public sealed record SubscriptionTier(
    string Code,
    string Name,
    decimal PriceMonthly,
    string Currency,
    IReadOnlyDictionary<string, TierLimit> Limits,
    IReadOnlyList<int>? AlertThresholds = null)
{
    public IReadOnlyList<int> AlertThresholds { get; init; } = AlertThresholds ?? Usage.UsageAlerts.DefaultThresholds;

    public TierLimit LimitOf(UsageFeature feature) =>
        Limits.TryGetValue(feature.Code, out var limit) ? limit : TierLimit.NotInTier(feature.Kind);
}

/// <summary>The catalog of DESIGN.md, seeded on a new database and restored by the <c>seed</c> command.</summary>
public static class DefaultCatalog
{
    public const string DefaultTier = "free";

    public static readonly IReadOnlyList<UsageFeature> Features =
    [
        new("AI_MESSAGES", "AI messages", FeatureKind.Metered, ResetPeriod.Month),
        new("DOCUMENT_SCANS", "Document scans", FeatureKind.Metered, ResetPeriod.Month),
        new("INVOICES", "Invoices", FeatureKind.Metered, ResetPeriod.Month),
        new("API_CALLS", "API calls", FeatureKind.Metered, ResetPeriod.Day),
        new("BANK_CONNECTIONS", "Bank connections", FeatureKind.Allocation, null),
        new("TEAM_MEMBERS", "Team members", FeatureKind.Allocation, null),
        new("STORAGE_MB", "Storage (MB)", FeatureKind.Allocation, null),
        new("API_ACCESS", "API access", FeatureKind.Boolean, null),
    ];

    public static readonly IReadOnlyList<SubscriptionTier> Tiers =
    [
        Tier("free", "Free", 0m, ai: 50, scans: 10, invoices: 5, apiCalls: 0, banks: 1, members: 1, storage: 500, apiAccess: false),
        Tier("starter", "Starter", 29m, ai: 1_000, scans: 200, invoices: 100, apiCalls: 0, banks: 3, members: 3, storage: 5_000, apiAccess: false),
        Tier("pro", "Pro", 79m, ai: 5_000, scans: 1_000, invoices: 1_000, apiCalls: 10_000, banks: 10, members: 10, storage: 25_000, apiAccess: true),
        Tier("business", "Business", 149m, ai: 25_000, scans: 5_000, invoices: null, apiCalls: 100_000, banks: null, members: 50, storage: 100_000, apiAccess: true),
    ];

    private static SubscriptionTier Tier(
        string code, string name, decimal price,
        long? ai, long? scans, long? invoices, long? apiCalls, long? banks, long? members, long? storage, bool apiAccess) =>
        new(code, name, price, "USD", new Dictionary<string, TierLimit>
        {
            ["AI_MESSAGES"] = TierLimit.Quota(ai),
            ["DOCUMENT_SCANS"] = TierLimit.Quota(scans),
            ["INVOICES"] = TierLimit.Quota(invoices),
            ["API_CALLS"] = TierLimit.Quota(apiCalls),
            ["BANK_CONNECTIONS"] = TierLimit.Quota(banks),
            ["TEAM_MEMBERS"] = TierLimit.Quota(members),
            ["STORAGE_MB"] = TierLimit.Quota(storage),
            ["API_ACCESS"] = TierLimit.Flag(apiAccess),
        });
}
