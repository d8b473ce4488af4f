using System.Reflection;
using System.Text.Json.Serialization;

namespace UsageSlices.Domain;

/// <summary>Why a request was refused, in the domain's words; the HTTP edge alone decides the status it maps to.</summary>
public enum RefusalKind
{
    /// <summary>The request's shape is wrong, or it names a feature or tier that does not exist.</summary>
    Invalid,
    NotFound,
    Forbidden,

    /// <summary>The request contradicts what is recorded (an idempotency key reused, a release below zero, a taken slug).</summary>
    Conflict,

    /// <summary>Enforce mode: the usage would take the organisation past its limit (see <see cref="LimitReached"/>).</summary>
    LimitReached,

    /// <summary>The service cannot take the request now (shutting down); the caller should retry.</summary>
    Unavailable,
}

/// <summary>
/// A refusal as a value: handlers return it instead of throwing, because refusals are ordinary answers on the hot
/// path (an enforce-mode refusal is routine). <see cref="Errors"/> names the fields at fault, in camelCase.
/// </summary>
public record Refusal(RefusalKind Kind, string Detail)
{
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }

    public static Refusal Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(RefusalKind.Invalid, errors.First().Value.First()) { Errors = errors };

    public static Refusal Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static Refusal NotFound(string detail) => new(RefusalKind.NotFound, detail);

    public static Refusal OrganisationNotFound(string orgId) => NotFound($"Organisation '{orgId}' is not registered.");

    public static Refusal UnknownFeature(string code) => Invalid("feature", $"'{code}' is not a feature of the catalog.");

    public static Refusal UnknownTier(string code) => Invalid("tier", $"'{code}' is not a tier.");

    public static Refusal Forbidden(string detail) => new(RefusalKind.Forbidden, detail);

    public static Refusal Conflict(string detail) => new(RefusalKind.Conflict, detail);

    /// <summary>Slugs are unique across organisations (and across shards, through their placements).</summary>
    public static Refusal SlugTaken(string slug, string owner) => Conflict($"The slug '{slug}' belongs to organisation '{owner}'.");

    public static Refusal Unavailable(string detail) => new(RefusalKind.Unavailable, detail);
}

/// <summary>Why a quantity does not fit a limit (DESIGN.md's check rule), named in JSON as the contract spells it.</summary>
public enum LimitReason
{
    /// <summary>Usage is already at or over the limit.</summary>
    [JsonStringEnumMemberName("LIMIT_EXCEEDED")]
    LimitExceeded,

    /// <summary>Some remains, but less than was asked for.</summary>
    [JsonStringEnumMemberName("REQUESTED_EXCEEDS_REMAINING")]
    RequestedExceedsRemaining,

    /// <summary>The limit is 0, or the feature's flag is off.</summary>
    [JsonStringEnumMemberName("NOT_IN_TIER")]
    NotInTier,
}

public static class LimitReasons
{
    private static readonly IReadOnlyDictionary<LimitReason, string> Codes = Enum.GetValues<LimitReason>().ToDictionary(
        reason => reason,
        reason => typeof(LimitReason).GetField(reason.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    /// <summary>The reason as the JSON spells it, for the places that write it without a serializer (metrics).</summary>
    public static string Code(this LimitReason reason) => Codes[reason];
}

/// <summary>An enforce-mode call or a reservation refused because it would exceed the limit, with the numbers it was decided on.</summary>
public sealed record LimitReached(
    string OrgId, string Feature, LimitReason Reason, long Requested, long Used, long? Limit, long? Remaining, string Detail)
    : Refusal(RefusalKind.LimitReached, Detail)
{
    /// <summary>What reservations held of the limit when it was decided.</summary>
    public long Reserved { get; init; }
}
