using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingFeatures;

public sealed record ListFeatures;

public static class ListFeaturesHandler
{
    public static async Task<Outcome<IReadOnlyList<UsageFeature>>> Handle(ListFeatures query, IQuerySession session, CancellationToken cancellation)
    {
        var features = await session.Query<UsageFeature>().OrderBy(f => f.Code).ToListAsync(cancellation);
        return Outcome<IReadOnlyList<UsageFeature>>.From(features);
    }
}

public static class ListFeaturesEndpoint
{
    public static void MapListFeatures(this IEndpointRouteBuilder api) =>
        api.MapGet("/features", (Delegate)((HttpContext http) => http.Send<ListFeatures, IReadOnlyList<UsageFeature>>(new ListFeatures())))
            .ActsForNoOrganisation(Scopes.Read)
            .Produces<IReadOnlyList<UsageFeature>>()
            .WithName("ListFeatures")
            .WithSummary("The feature catalog: each code, its kind and, for metered features, the period it resets on.");
}
