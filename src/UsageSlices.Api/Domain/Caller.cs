namespace UsageSlices.Domain;

public static class Scopes
{
    public const string Read = "usage:read";
    public const string Write = "usage:write";
    public const string Admin = "usage:admin";

    public static readonly IReadOnlyList<string> All = [Read, Write, Admin];
}

/// <summary>
/// Who makes a request: resolved once from the token (or, for an operator's command, given by the command line)
/// and passed into the commands that act on organisations.
/// </summary>
/// <param name="OrgId">The token's organisation; <c>null</c> for an admin token that belongs to none.</param>
public sealed record Caller(string Subject, string? OrgId, IReadOnlySet<string> GrantedScopes)
{
    public bool IsAdmin => GrantedScopes.Contains(Scopes.Admin);

    /// <summary>Admin holds every scope.</summary>
    public bool HasScope(string scope) => IsAdmin || GrantedScopes.Contains(scope);

    /// <summary>The one rule of whom a caller may act for: an admin for any organisation, anyone else for their own.</summary>
    public bool MayActFor(string orgId) => IsAdmin || OrgId == orgId;

    /// <summary>The actor of what the service records by itself: an override's expiry, a reservation's.</summary>
    public const string ServiceSubject = "usage-slices";

    /// <summary>An operator at the command line: the host's own database access makes them an admin.</summary>
    public static Caller Operator(string subject) => new(subject, null, new HashSet<string> { Scopes.Admin });
}

/// <summary>
/// A request about one organisation: its handler runs in the database that holds the organisation (its shard,
/// docs/scaling.md), which the dispatch path finds by <see cref="OrgId"/>.
/// </summary>
public interface IForOrganisation
{
    string OrgId { get; }
}

/// <summary>A command that acts on one organisation on behalf of a caller; the dispatch path refuses it unless the caller may.</summary>
public interface IActForOrganisation : IForOrganisation
{
    Caller Caller { get; }
}
