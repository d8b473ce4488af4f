using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.UpsertingTiers;

public sealed record UpsertTierBody(string? Name, decimal PriceMonthly, string Currency = "USD", Dictionary<string, TierLimit>? Limits = null);

/// <summary>Create or replace tier <paramref name="Code"/>. Organisations on it get the new limits at once.</summary>
public sealed record UpsertTier(string Code, string Name, decimal PriceMonthly, string Currency, IReadOnlyDictionary<string, TierLimit> Limits)
{
    public sealed class Validator : AbstractValidator<UpsertTier>
    {
        public Validator()
        {
            RuleFor(x => x.Code).MustBeTierCode();
            RuleFor(x => x.Name).NotEmpty().MaximumLength(100).Must(ValidationRules.HasNoControlCharacters)
                .WithMessage("A name is 1-100 characters without control characters.");
            RuleFor(x => x.PriceMonthly).InclusiveBetween(0m, 1_000_000m).PrecisionScale(9, 2, ignoreTrailingZeros: true);
            RuleFor(x => x.Currency).Matches(Identifiers.Currency()).WithMessage("A currency is an ISO 4217 code such as USD.");
            RuleFor(x => x.Limits.Count).LessThanOrEqualTo(256).OverridePropertyName("limits");
        }
    }
}

public sealed record TierUpsert(SubscriptionTier Tier, bool Created);

public static class UpsertTierHandler
{
    public static async Task<Outcome<TierUpsert>> Handle(UpsertTier command, IDocumentSession session, CancellationToken cancellation)
    {
        var features = (await session.Query<UsageFeature>().ToListAsync(cancellation)).ToDictionary(f => f.Code);
        foreach (var (code, limit) in command.Limits)
        {
            if (!features.TryGetValue(code, out var feature))
                return Problems.Invalid($"limits.{code}", $"'{code}' is not a feature of the catalog.");
            if (!limit.Fits(feature.Kind))
                return Problems.Invalid($"limits.{code}", feature.Kind == FeatureKind.Boolean
                    ? $"{code} is a boolean feature: its limit is true or false."
                    : $"{code} is counted: its limit is a whole number of at least 0, or null for unlimited.");
        }

        var existing = await session.LoadAsync<SubscriptionTier>(command.Code, cancellation);
        var tier = new SubscriptionTier(command.Code, command.Name, command.PriceMonthly, command.Currency, command.Limits);
        session.Store(tier);
        return new TierUpsert(tier, Created: existing is null);
    }
}

public static class UpsertTierEndpoint
{
    public static void MapUpsertTier(this IEndpointRouteBuilder api) =>
        api.MapPut("/tiers/{code}", (string code, UpsertTierBody body, HttpContext http) =>
                http.Send<UpsertTier, TierUpsert>(
                    new UpsertTier(code, body.Name ?? "", body.PriceMonthly, body.Currency, body.Limits ?? []),
                    upsert => upsert.Created
                        ? TypedResults.Created($"/api/v1/tiers/{code}", upsert.Tier)
                        : TypedResults.Ok(upsert.Tier)))
            .RequireAuthorization(Scopes.Admin)
            .Produces<SubscriptionTier>().Produces<SubscriptionTier>(StatusCodes.Status201Created)
            .WithName("UpsertTier")
            .WithSummary("Create (201) or replace (200) a tier; a feature left out of its limits is not in the tier.");
}
