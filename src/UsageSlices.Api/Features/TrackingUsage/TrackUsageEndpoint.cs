using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsage;

/// <summary>The body of <c>POST /api/v1/usage/{orgId}/track</c>.</summary>
public sealed record TrackUsageBody(
    string? Feature,
    long Quantity = 1,
    string? IdempotencyKey = null,
    DateTimeOffset? OccurredAt = null,
    bool Enforce = false,
    Dictionary<string, string>? Properties = null) : IHasExample
{
    public static object Example => new { feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "msg-42", enforce = false, properties = new { chatId = "c-9" } };
}

/// <summary>
/// A track call is validated, then handed to the group commit, which records it with the calls that arrive with
/// it through the <see cref="UsageLedger"/>; <c>Prefer: respond-async</c> queues it durably instead (202).
/// </summary>
public static class TrackUsageEndpoint
{
    public static void MapTrackUsage(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/track", (string orgId, TrackUsageBody body, HttpContext http, UsageGroupCommit groupCommit) =>
            {
                var command = new TrackUsage(
                    orgId, body.Feature ?? "", body.Quantity, body.IdempotencyKey,
                    http.Request.Headers["Idempotency-Key"].FirstOrDefault(), body.OccurredAt, body.Enforce, body.Properties);
                return PrefersAsync(http.Request)
                    ? QueueAsync(command, http)
                    : http.Send<TrackUsage, TrackUsageReply>(command, groupCommit.TrackAsync, TypedResults.Ok);
            })
            .ActsForOrganisationInRoute(Scopes.Write)
            .AddEndpointFilter(UsageMetrics.Timed(UsageMetrics.TrackDuration))
            .Produces<TrackUsageReply>().Produces<QueueTrackUsageReply>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("TrackUsage")
            .WithSummary("Record that an organisation used some of a feature (enforce: only within its limit; Prefer: respond-async: 202 once durably queued).");

    /// <summary>
    /// RFC 7240: the client prefers a 202 as soon as the call is durably accepted. Preferences are comma-separated,
    /// each a case-insensitive token with an optional value and parameters (<c>wait=5, respond-async</c>), so only
    /// the whole token counts: <c>respond-async-not</c> is another preference.
    /// </summary>
    private static bool PrefersAsync(HttpRequest request) =>
        request.Headers["Prefer"].SelectMany(value => (value ?? "").Split(','))
            .Select(preference => preference.Split(';', '=')[0].Trim())
            .Any(token => token.Equals("respond-async", StringComparison.OrdinalIgnoreCase));

    private static Task<IResult> QueueAsync(TrackUsage command, HttpContext http) =>
        http.Send<QueueTrackUsage, QueueTrackUsageReply>(new QueueTrackUsage(command), accepted =>
        {
            http.Response.Headers["Preference-Applied"] = "respond-async";
            return TypedResults.Accepted((string?)null, accepted);
        });
}
