using System.Text.Json;
using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;
using Wolverine;
using Wolverine.Marten;

namespace UsageSlices.Features.GrantingOverrides;

/// <param name="Limit">Required: a whole number of at least 0, or <c>null</c> for unlimited (a counted feature); <c>true</c> or <c>false</c> (a boolean feature).</param>
/// <remarks>The limit is read as raw JSON so that a missing limit (an error) differs from <c>null</c> (unlimited).</remarks>
public sealed record GrantOverrideBody(JsonElement Limit, DateTimeOffset? ExpiresAt = null, string? Reason = null) : IHasExample
{
    public static object Example => new { limit = 2_000, expiresAt = "2027-01-01T00:00:00Z", reason = "Launch month: sales agreed 2,000 messages" };

    /// <summary>The limit the body names, or <c>null</c> when it names none that a limit can be.</summary>
    public TierLimit? ReadLimit() => Limit.ValueKind switch
    {
        JsonValueKind.Null => TierLimit.Quota(null),
        JsonValueKind.True => TierLimit.Flag(true),
        JsonValueKind.False => TierLimit.Flag(false),
        JsonValueKind.Number when Limit.TryGetInt64(out var max) => TierLimit.Quota(max),
        _ => null,
    };
}

/// <summary>
/// Give organisation <paramref name="OrgId"/> <paramref name="Limit"/> of <paramref name="Feature"/> instead of its
/// tier's limit, until <paramref name="ExpiresAt"/> (or until revoked). A second grant replaces the first.
/// </summary>
public sealed record GrantOverride(string OrgId, string Feature, TierLimit? Limit, DateTimeOffset? ExpiresAt, string? Reason, Caller Caller)
    : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<GrantOverride>
    {
        public Validator(TimeProvider time)
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode();
            RuleFor(x => x.Limit).Must(limit => limit is { IsFlag: true } or { Max: null or >= 0 })
                .WithMessage("limit is required: a whole number of at least 0 or null (unlimited) for a counted feature, true or false for a boolean one.");
            RuleFor(x => x.ExpiresAt).Must(at => at > time.GetUtcNow())
                .WithMessage("expiresAt must be in the future (leave it out for an override that lasts until it is revoked).")
                .When(x => x.ExpiresAt is not null);
            RuleFor(x => x.Reason).MustBeReason().When(x => x.Reason is not null);
        }
    }
}

/// <summary>What a grant is decided on: the organisation as its stream stands, the feature, and the override it replaces.</summary>
public sealed record GrantOverrideState(OrganisationState Organisation, UsageFeature? Feature, LimitOverride? Existing);

public static class GrantOverrideHandler
{
    public static async Task<GrantOverrideState> LoadAsync(GrantOverride command, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(command.OrgId);
        var stream = batch.Events.FetchStreamState(command.OrgId);
        var feature = batch.Load<UsageFeature>(command.Feature);
        var existing = batch.Load<LimitOverride>(LimitOverride.KeyFor(command.OrgId, command.Feature));
        await batch.Execute(cancellation);
        return new GrantOverrideState(new OrganisationState(await organisation, (await stream)?.Version ?? 0), await feature, await existing);
    }

    /// <summary>
    /// The grant is an event on the organisation's stream and the override document, written together; the stream's
    /// version makes a concurrent grant or revoke on the same organisation retry on fresh state. Its expiry is
    /// decided by the clock at every read; the scheduled message only records it on the stream.
    /// </summary>
    public static (Outcome<LimitOverrideView>, AppendEvents, IMartenOp, OutgoingMessages) Handle(
        GrantOverride command, GrantOverrideState state, TimeProvider time)
    {
        var nothing = new AppendEvents(command.OrgId, state.Organisation.Version, []);
        if (state.Organisation.Organisation is null)
            return (Refusal.OrganisationNotFound(command.OrgId), nothing, MartenOps.Nothing(), []);
        if (state.Feature is not { } feature)
            return (Refusal.UnknownFeature(command.Feature), nothing, MartenOps.Nothing(), []);
        var limit = command.Limit!.Value;
        if (!limit.Fits(feature.Kind))
        {
            return (Refusal.Invalid("limit", feature.Kind == FeatureKind.Boolean
                ? $"{feature.Code} is a boolean feature: its override is true or false."
                : $"{feature.Code} is counted: its override is a whole number of at least 0, or null for unlimited."), nothing, MartenOps.Nothing(), []);
        }

        var now = time.GetUtcNow();
        var granted = new LimitOverrideGranted(
            feature.Code, limit, command.ExpiresAt, command.Reason, command.Caller.Subject, now,
            state.Existing is { } existing && existing.IsActiveAt(now) ? existing.Limit : null);
        var limitOverride = LimitOverride.From(command.OrgId, granted);
        var expiry = new OutgoingMessages();
        if (command.ExpiresAt is { } expiresAt)
            expiry.Schedule(new OverrideExpiryDue(command.OrgId, feature.Code, now), expiresAt);
        return (LimitOverrideView.Of(limitOverride, now), nothing with { Events = [granted] }, MartenOps.Store(limitOverride), expiry);
    }
}

public static class GrantOverrideEndpoint
{
    public static void MapGrantOverride(this IEndpointRouteBuilder api) =>
        api.MapPut("/organisations/{orgId}/overrides/{feature}", (string orgId, string feature, GrantOverrideBody body, HttpContext http) =>
                http.Send<GrantOverride, LimitOverrideView>(
                    new GrantOverride(orgId, feature, body.ReadLimit(), body.ExpiresAt, body.Reason, http.Caller())))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces<LimitOverrideView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GrantOverride")
            .WithSummary("Give an organisation its own limit of a feature instead of its tier's, until expiresAt; a second grant replaces the first.");
}
