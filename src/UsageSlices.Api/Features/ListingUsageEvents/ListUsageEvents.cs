using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingUsageEvents;

/// <summary>
/// A page of organisation <paramref name="OrgId"/>'s event log — usage events and corrections with <c>occurredAt</c>
/// in [<paramref name="From"/>, <paramref name="To"/>), by default the current period — newest first.
/// </summary>
public sealed record ListUsageEvents(string OrgId, string? Feature, DateTimeOffset? From, DateTimeOffset? To, int? Limit, string? Cursor)
    : ITimeRange, IForOrganisation
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1_000;

    /// <summary>What a cursor is bound to: the filters as the caller gave them (not the page size, which may change between pages).</summary>
    public string Query => $"events|{OrgId}|{Feature}|{From?.UtcTicks}|{To?.UtcTicks}";

    public sealed class Validator : AbstractValidator<ListUsageEvents>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode().When(x => x.Feature is not null);
            RuleFor(x => x.Limit).InclusiveBetween(1, MaxLimit).WithMessage($"limit is a whole number from 1 to {MaxLimit:N0}.");
            this.RangeRules();
        }
    }
}

public sealed record ListUsageEventsReply(string OrgId, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<UsageEventView> Events, string? NextCursor);

public static class ListUsageEventsHandler
{
    public static async Task<Outcome<ListUsageEventsReply>> Handle(
        ListUsageEvents query, IQuerySession session, TimeProvider time, CancellationToken cancellation)
    {
        var catalog = await session.LoadCatalogAsync([query.OrgId], cancellation);
        if (catalog.Organisations.GetValueOrDefault(query.OrgId) is not { } organisation)
            return Refusal.OrganisationNotFound(query.OrgId);
        var feature = query.Feature is null ? null : catalog.Feature(query.Feature);
        if (query.Feature is not null && feature is null)
            return Refusal.UnknownFeature(query.Feature);

        var range = UsageBuckets.RangeOf(query, UsageBuckets.CurrentRange(feature, organisation, time.GetUtcNow()));
        if (range.Refusal is { } empty)
            return empty;
        var (from, to) = range.Value;
        var limit = query.Limit ?? ListUsageEvents.DefaultLimit;
        // Decoded here once, not in the validator too: the checksum is the validity check.
        var after = query.Cursor is null ? null : EventCursor.Decode(query.Cursor, query.Query);
        if (query.Cursor is not null && after is null)
            return Refusal.Invalid("cursor", "cursor is not one this service issued for this query: pass the nextCursor of the previous page, with the same feature, from and to.");

        // One more than asked for tells whether there is a next page without a count.
        var events = await session.PageAsync(organisation.Id, feature?.Code, from, to, after, limit + 1, cancellation);
        var page = events.Take(limit).ToList();
        var next = events.Count > limit ? new EventCursor(page[^1].OccurredAt, page[^1].EventId).Encode(query.Query) : null;
        return new ListUsageEventsReply(organisation.Id, from, to, page, next);
    }
}

public static class ListUsageEventsEndpoint
{
    public static void MapListUsageEvents(this IEndpointRouteBuilder api) =>
        api.MapGet("/usage/{orgId}/events", (string orgId, HttpContext http, string? feature, DateTimeOffset? from, DateTimeOffset? to, int? limit, string? cursor) =>
                http.Send<ListUsageEvents, ListUsageEventsReply>(new ListUsageEvents(orgId, feature, from, to, limit, cursor)))
            .ActsForOrganisationInRoute(Scopes.Read)
            .Produces<ListUsageEventsReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListUsageEvents")
            .WithSummary("An organisation's usage events and corrections, newest first, a page at a time (keyset cursor); by default the current period.");
}
