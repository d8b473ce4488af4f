using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.UpsertingTiers;

public sealed record UpsertTierBody(
    string? Name, decimal PriceMonthly, string Currency = "USD", Dictionary<string, TierLimit>? Limits = null, List<int>? AlertThresholds = null)
    : IHasExample
{
    public static object Example => new
    {
        name = "Team",
        priceMonthly = 49m,
        currency = "USD",
        limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = 2_000, ["INVOICES"] = null, ["API_ACCESS"] = true },
        alertThresholds = new[] { 50, 80, 100 },
    };
}

/// <summary>Create or replace tier <paramref name="Code"/>. Organisations on it get the new limits at once.</summary>
/// <param name="AlertThresholds">Percentages of each finite limit to announce the crossing of; <c>null</c>: the default, 80 and 100.</param>
public sealed record UpsertTier(
    string Code, string Name, decimal PriceMonthly, string Currency, IReadOnlyDictionary<string, TierLimit> Limits, IReadOnlyList<int>? AlertThresholds = null)
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
            RuleFor(x => x.AlertThresholds)
                .Must(thresholds => thresholds!.Count <= UsageAlerts.MaxThresholds && thresholds.All(t => t is >= 1 and <= UsageAlerts.MaxThreshold)
                    && thresholds.Distinct().Count() == thresholds.Count)
                .WithMessage($"alertThresholds are at most {UsageAlerts.MaxThresholds} different whole percentages from 1 to {UsageAlerts.MaxThreshold:N0}.")
                .When(x => x.AlertThresholds is not null);
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

    /// <returns>With shards, the replication of the catalog to the other shards, in this transaction's outbox (docs/scaling.md).</returns>
    public static (Outcome<UpsertTierReply>, IMartenOp, ReplicateCatalog?) Handle(UpsertTier command, UpsertTierState state, DatabaseSettings database)
    {
        foreach (var (code, limit) in command.Limits)
        {
            if (!state.Features.TryGetValue(code, out var feature))
                return (Refusal.Invalid($"limits.{code}", $"'{code}' is not a feature of the catalog."), MartenOps.Nothing(), null);
            if (!limit.Fits(feature.Kind))
            {
                return (Refusal.Invalid($"limits.{code}", feature.Kind == FeatureKind.Boolean
                    ? $"{code} is a boolean feature: its limit is true or false."
                    : $"{code} is counted: its limit is a whole number of at least 0, or null for unlimited."), MartenOps.Nothing(), null);
            }
        }

        var tier = new SubscriptionTier(
            command.Code, command.Name, command.PriceMonthly, command.Currency, command.Limits, command.AlertThresholds?.Order().ToList());
        return (new UpsertTierReply(tier, Created: state.Existing is null), MartenOps.Store(tier), database.Sharded ? new ReplicateCatalog() : null);
    }
}

public static class UpsertTierEndpoint
{
    public static void MapUpsertTier(this IEndpointRouteBuilder api) =>
        api.MapPut("/tiers/{code}", (string code, UpsertTierBody body, HttpContext http) =>
                http.Send<UpsertTier, UpsertTierReply>(
                    new UpsertTier(code, body.Name ?? "", body.PriceMonthly, body.Currency, body.Limits ?? [], body.AlertThresholds),
                    upsert => upsert.Created
                        ? TypedResults.Created($"/api/v1/tiers/{code}", upsert.Tier)
                        : TypedResults.Ok(upsert.Tier)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<SubscriptionTier>().Produces<SubscriptionTier>(StatusCodes.Status201Created)
            .WithName("UpsertTier")
            .WithSummary("Create (201) or replace (200) a tier; a feature left out of its limits is not in the tier.");
}
