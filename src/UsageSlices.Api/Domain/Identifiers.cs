using System.Text.RegularExpressions;

namespace UsageSlices.Domain;

/// <summary>
/// The shapes of the codes and ids the contract fixes, in one place. Each pattern ends with <c>\z</c>, not <c>$</c>,
/// which .NET also matches before a final line feed ("victim\n" would pass as an id).
/// </summary>
public static partial class Identifiers
{
    public const int MaxOrgIdLength = 64;
    public const int MaxIdempotencyKeyLength = 255;

    /// <summary>The upstream app's own id: no ':' (usage stream keys rely on that), no spaces, no control characters.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*\\z")]
    public static partial Regex OrgId();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*\\z")]
    public static partial Regex Slug();

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*\\z")]
    public static partial Regex FeatureCode();

    [GeneratedRegex("^[a-z][a-z0-9_-]*\\z")]
    public static partial Regex TierCode();

    [GeneratedRegex("^[A-Z]{3}\\z")]
    public static partial Regex Currency();

    /// <summary>Printable ASCII only, so that a key reads the same in logs, SQL and every client.</summary>
    [GeneratedRegex("^[\\x20-\\x7E]+\\z")]
    public static partial Regex IdempotencyKey();
}
