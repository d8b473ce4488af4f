using System.Text.RegularExpressions;

namespace UsageSlices.Domain;

/// <summary>The shapes of the codes and ids DESIGN.md fixes, in one place.</summary>
public static partial class Identifiers
{
    public const int MaxOrgIdLength = 64;
    public const int MaxIdempotencyKeyLength = 255;

    /// <summary>The upstream app's own id: no ':' (usage stream keys rely on that), no spaces, no control characters.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public static partial Regex OrgId();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    public static partial Regex Slug();

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")]
    public static partial Regex FeatureCode();

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    public static partial Regex TierCode();

    [GeneratedRegex("^[A-Z]{3}$")]
    public static partial Regex Currency();

    /// <summary>Printable ASCII only, so that a key reads the same in logs, SQL and every client.</summary>
    [GeneratedRegex("^[\\x20-\\x7E]+$")]
    public static partial Regex IdempotencyKey();
}
