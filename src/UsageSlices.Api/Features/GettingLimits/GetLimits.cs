using FluentValidation;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.GettingLimits;

/// <summary>Every feature's limit and usage for one organisation.</summary>
public sealed record GetLimits(string OrgId) : IForOrganisation
{
    public sealed class Validator : AbstractValidator<GetLimits>
    {
        public Validator() => RuleFor(x => x.OrgId).MustBeOrgId();
    }
}

public sealed record TierSummary(string Code, string Name, decimal PriceMonthly, string Currency);

public sealed record FeatureLimit(
    string Feature,
    FeatureKind Kind,
    ResetPeriod? Period,
    bool Enabled,
    long? Limit,
    long Used,
    long Reserved,
    long? Remaining,
    bool Unlimited,
    LimitSource Source,
    DateTimeOffset? OverrideExpiresAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    DateTimeOffset? ResetsAt);

public sealed record GetLimitsReply(string OrgId, TierSummary Tier, IReadOnlyList<FeatureLimit> Features, DateTimeOffset AsOf);

public static class GetLimitsHandler
{
    public static async Task<Outcome<GetLimitsReply>> Handle(
        GetLimits query, CatalogCache catalogs, TimeProvider time, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var read = await catalogs.ReadAsync(query.OrgId, catalog =>
            catalog.Organisations.GetValueOrDefault(query.OrgId) is { } organisation
                ? [.. catalog.Features.Where(f => f.IsCounted).Select(f => UsageCounter.KeyFor(organisation.Id, f, Periods.For(f, now, organisation.BillingAnchorDay)))]
                : [], cancellation);
        var catalog = read.Catalog;
        if (catalog.Organisations.GetValueOrDefault(query.OrgId) is not { } organisation)
            return Refusal.OrganisationNotFound(query.OrgId);

        var tier = catalog.TierOf(organisation)
            ?? new SubscriptionTier(organisation.Tier, organisation.Tier, 0m, "USD", new Dictionary<string, TierLimit>());
        var features = catalog.Features;
        var periods = features.ToDictionary(f => f.Code, f => Periods.For(f, now, organisation.BillingAnchorDay));
        var counters = features.Where(f => f.IsCounted)
            .Select(f => read.Counters.GetValueOrDefault(UsageCounter.KeyFor(organisation.Id, f, periods[f.Code])))
            .OfType<UsageCounter>().ToDictionary(c => c.Feature);

        var limits = features.Select(feature =>
        {
            var standing = FeatureStanding.Of(
                feature, catalog.LimitOf(organisation, feature, now), counters.GetValueOrDefault(feature.Code), periods[feature.Code]);
            return new FeatureLimit(
                feature.Code, feature.Kind, feature.Period, standing.Enabled, standing.Limit, standing.Used, standing.Reserved, standing.Remaining,
                standing.Unlimited, standing.Source, standing.OverrideExpiresAt, standing.PeriodStart, standing.PeriodEnd, standing.ResetsAt);
        }).ToList();
        return new GetLimitsReply(organisation.Id, new TierSummary(tier.Code, tier.Name, tier.PriceMonthly, tier.Currency), limits, now);
    }
}

public static class GetLimitsEndpoint
{
    public static void MapGetLimits(this IEndpointRouteBuilder api) =>
        // Called directly, as the check is (see CheckLimitEndpoint).
        api.MapGet("/usage/{orgId}/limits", (string orgId, HttpContext http, CatalogCache catalogs, TimeProvider time) =>
                http.Send<GetLimits, GetLimitsReply>(
                    new GetLimits(orgId), (query, token) => GetLimitsHandler.Handle(query, catalogs, time, token), TypedResults.Ok))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<GetLimitsReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetLimits")
            .WithSummary("Every feature's limit, usage and period for an organisation.");
}
