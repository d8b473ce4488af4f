using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.UpsertingTiers;

public sealed record UpsertTierBody(string? Name, decimal PriceMonthly, string Currency = "USD", Dictionary<string, TierLimit>? Limits = null)
    : IHasExample
{
    public static object Example => new
    {
        name = "Team",
        priceMonthly = 49m,
        currency = "USD",
        limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = 2_000, ["INVOICES"] = null, ["API_ACCESS"] = true },
    };
}

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

public sealed record UpsertTierReply(SubscriptionTier Tier, bool Created);

/// <summary>What an upsert is decided on: the catalog's features and the tier as it is stored now, if at all.</summary>
public sealed record UpsertTierState(IReadOnlyDictionary<string, UsageFeature> Features, SubscriptionTier? Existing);

public static class UpsertTierHandler
{
    /// <summary>Wolverine runs this before <see cref="Handle"/> and passes it what was read (a compound handler).</summary>
    public static async Task<UpsertTierState> LoadAsync(UpsertTier command, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var features = batch.Query<UsageFeature>().ToList();
        var existing = batch.Load<SubscriptionTier>(command.Code);
        await batch.Execute(cancellation);
        return new UpsertTierState((await features).ToDictionary(f => f.Code), await existing);
    }

    public static (Outcome<UpsertTierReply>, IMartenOp) Handle(UpsertTier command, UpsertTierState state)
    {
        foreach (var (code, limit) in command.Limits)
        {
            if (!state.Features.TryGetValue(code, out var feature))
                return (Refusal.Invalid($"limits.{code}", $"'{code}' is not a feature of the catalog."), MartenOps.Nothing());
            if (!limit.Fits(feature.Kind))
            {
                return (Refusal.Invalid($"limits.{code}", feature.Kind == FeatureKind.Boolean
                    ? $"{code} is a boolean feature: its limit is true or false."
                    : $"{code} is counted: its limit is a whole number of at least 0, or null for unlimited."), MartenOps.Nothing());
            }
        }

        var tier = new SubscriptionTier(command.Code, command.Name, command.PriceMonthly, command.Currency, command.Limits);
        return (new UpsertTierReply(tier, Created: state.Existing is null), MartenOps.Store(tier));
    }
}

public static class UpsertTierEndpoint
{
    public static void MapUpsertTier(this IEndpointRouteBuilder api) =>
        api.MapPut("/tiers/{code}", (string code, UpsertTierBody body, HttpContext http) =>
                http.Send<UpsertTier, UpsertTierReply>(
                    new UpsertTier(code, body.Name ?? "", body.PriceMonthly, body.Currency, body.Limits ?? []),
                    upsert => upsert.Created
                        ? TypedResults.Created($"/api/v1/tiers/{code}", upsert.Tier)
                        : TypedResults.Ok(upsert.Tier)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<SubscriptionTier>().Produces<SubscriptionTier>(StatusCodes.Status201Created)
            .WithName("UpsertTier")
            .WithSummary("Create (201) or replace (200) a tier; a feature left out of its limits is not in the tier.");
}
