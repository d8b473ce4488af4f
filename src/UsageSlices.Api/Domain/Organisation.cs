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

/// <summary>An organisation as its stream stands: the document, and the stream's version it was read at (0: none yet).</summary>
public sealed record OrganisationState(Organisation? Organisation, long Version);

/// <summary>The one rule of a tier change, whether it comes with registering an organisation or assigning a tier.</summary>
public static class TierAssignments
{
    /// <summary>
    /// Moves <paramref name="organisation"/> to tier <paramref name="code"/>, which must exist (<paramref name="tier"/>
    /// is what the catalog holds under that code). Staying on the same tier is no change: <paramref name="assigned"/>
    /// is then <c>null</c>. Usage counted so far is kept: counters belong to the organisation, not its tier.
    /// </summary>
    public static Refusal? Assign(
        Organisation organisation, string code, SubscriptionTier? tier, string actor, string? reason, DateTimeOffset now, out TierAssigned? assigned)
    {
        assigned = null;
        if (tier is null)
            return Refusal.UnknownTier(code);
        if (organisation.Tier != code)
            assigned = new TierAssigned(code, organisation.Tier, actor, reason, now);
        return null;
    }
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
