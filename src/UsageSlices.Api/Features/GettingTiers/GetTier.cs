using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.GettingTiers;

public sealed record GetTier(string Code)
{
    public sealed class Validator : AbstractValidator<GetTier>
    {
        public Validator() => RuleFor(x => x.Code).MustBeTierCode();
    }
}

public static class GetTierHandler
{
    public static async Task<Outcome<SubscriptionTier>> Handle(GetTier query, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<SubscriptionTier>(query.Code, cancellation) is { } tier
            ? tier
            : Refusal.NotFound($"There is no tier '{query.Code}'.");
}

public static class GetTierEndpoint
{
    public static void MapGetTier(this IEndpointRouteBuilder api) =>
        api.MapGet("/tiers/{code}", (string code, HttpContext http) => http.Send<GetTier, SubscriptionTier>(new GetTier(code)))
            .ActsForNoOrganisation(Scopes.Read)
            .Produces<SubscriptionTier>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetTier")
            .WithSummary("One subscription tier with its price and limits.");
}
