using Marten.Events.Aggregation;

namespace UsageSlices.Domain;

public sealed record OrganisationRegistered(
    string OrgId, string Slug, string Name, string Tier, int BillingAnchorDay, DateTimeOffset RegisteredAt, string Actor);

public sealed record OrganisationDetailsChanged(string Slug, string Name, int BillingAnchorDay, string Actor);

public sealed record TierAssigned(string Tier, string PreviousTier, string Actor, string? Reason, DateTimeOffset AssignedAt);

/// <summary>An organisation (a tenant) as the API shows it; kept current from its event stream, keyed by its id.</summary>
public sealed class Organisation
{
    public required string Id { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public required string Tier { get; set; }
    public int BillingAnchorDay { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public partial class OrganisationProjection : SingleStreamProjection<Organisation, string>
{
    public static Organisation Create(OrganisationRegistered registered) => new()
    {
        Id = registered.OrgId,
        Slug = registered.Slug,
        Name = registered.Name,
        Tier = registered.Tier,
        BillingAnchorDay = registered.BillingAnchorDay,
        CreatedAt = registered.RegisteredAt,
    };

    public static void Apply(OrganisationDetailsChanged changed, Organisation organisation)
    {
        organisation.Slug = changed.Slug;
        organisation.Name = changed.Name;
        organisation.BillingAnchorDay = changed.BillingAnchorDay;
    }

    public static void Apply(TierAssigned assigned, Organisation organisation) => organisation.Tier = assigned.Tier;
}
