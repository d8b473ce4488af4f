using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingOrganisations;

/// <summary>
/// A page of organisations in id order: those whose id, slug or name contains <paramref name="Search"/> (ignoring
/// case), on <paramref name="Tier"/> when given, after the id <paramref name="After"/> (the previous page's last).
/// </summary>
public sealed record ListOrganisations(string? Search, string? Tier, int? Limit, string? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    public const int MaxSearchLength = 200;

    public sealed class Validator : AbstractValidator<ListOrganisations>
    {
        public Validator()
        {
            RuleFor(x => x.Search).MaximumLength(MaxSearchLength).Must(ValidationRules.HasNoControlCharacters)
                .WithMessage($"search is at most {MaxSearchLength} characters, with no control characters.");
            RuleFor(x => x.Tier).MustBeTierCode().When(x => x.Tier is not null);
            RuleFor(x => x.Limit).InclusiveBetween(1, MaxLimit).WithMessage($"limit is a whole number from 1 to {MaxLimit}.");
            RuleFor(x => x.After!).MustBeOrgId().When(x => x.After is not null);
        }
    }
}

/// <param name="NextAfter">Pass it as <c>after</c> for the next page; <c>null</c> on the last.</param>
public sealed record ListOrganisationsReply(IReadOnlyList<Organisation> Organisations, string? NextAfter);

public static class ListOrganisationsHandler
{
    /// <summary>
    /// With shards, each gives its first page after the cursor, and the page is the first of their union: each shard's
    /// page holds every one of its organisations that can be on it.
    /// </summary>
    public static async Task<Outcome<ListOrganisationsReply>> Handle(
        ListOrganisations query, IDocumentStore store, DatabaseSettings database, CancellationToken cancellation)
    {
        var limit = query.Limit ?? ListOrganisations.DefaultLimit;
        // A search is a substring, so LIKE's own wildcards in it are escaped; ids are compared in byte order (COLLATE "C"),
        // the order the keyset page walks. One more than asked for tells whether there is a next page without a count.
        var conditions = new List<string>();
        var parameters = new List<object>();
        if (query.Search is { Length: > 0 } search)
        {
            conditions.Add("(id ilike ? or data ->> 'slug' ilike ? or data ->> 'name' ilike ?)");
            var pattern = "%" + search.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";
            parameters.AddRange([pattern, pattern, pattern]);
        }
        if (query.Tier is { } tier)
        {
            conditions.Add("data ->> 'tier' = ?");
            parameters.Add(tier);
        }
        if (query.After is { } after)
        {
            conditions.Add("id collate \"C\" > ?");
            parameters.Add(after);
        }
        parameters.Add(limit + 1);
        // Marten completes a SQL that starts with "where" into a select of the documents.
        var where = conditions.Count == 0 ? "true" : string.Join(" and ", conditions);
        var parts = await store.ReadAsync(
            database, session => session.QueryAsync<Organisation>($"where {where} order by id collate \"C\" limit ?", cancellation, [.. parameters]),
            cancellation);
        // Ids are letters, digits, '.', '_' and '-': ordinal order is the byte order of COLLATE "C".
        var organisations = parts.SelectMany(part => part).OrderBy(o => o.Id, StringComparer.Ordinal).Take(limit + 1).ToList();

        var page = organisations.Take(limit).ToList();
        return new ListOrganisationsReply(page, organisations.Count > limit ? page[^1].Id : null);
    }
}

public static class ListOrganisationsEndpoint
{
    public static void MapListOrganisations(this IEndpointRouteBuilder api) =>
        api.MapGet("/organisations", (HttpContext http, string? search, string? tier, int? limit, string? after) =>
                http.Send<ListOrganisations, ListOrganisationsReply>(new ListOrganisations(search, tier, limit, after)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<ListOrganisationsReply>()
            .WithName("ListOrganisations")
            .WithSummary("Organisations in id order, a page at a time: those whose id, slug or name contains the search, on a tier (admin).");
}
