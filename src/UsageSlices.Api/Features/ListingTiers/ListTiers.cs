using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingTiers;

public sealed record ListTiers;

public static class ListTiersHandler
{
    public static async Task<Outcome<IReadOnlyList<SubscriptionTier>>> Handle(ListTiers query, IQuerySession session, CancellationToken cancellation)
    {
        var tiers = await session.Query<SubscriptionTier>().OrderBy(t => t.PriceMonthly).ThenBy(t => t.Code).ToListAsync(cancellation);
        return Outcome<IReadOnlyList<SubscriptionTier>>.From(tiers);
    }
}

public static class ListTiersEndpoint
{
    public static void MapListTiers(this IEndpointRouteBuilder api) =>
        api.MapGet("/tiers", (Delegate)((HttpContext http) => http.Send<ListTiers, IReadOnlyList<SubscriptionTier>>(new ListTiers())))
            .ActsForNoOrganisation(Scopes.Read)
            .Produces<IReadOnlyList<SubscriptionTier>>()
            .WithName("ListTiers")
            .WithSummary("Every subscription tier with its price and limits, cheapest first.");
}
