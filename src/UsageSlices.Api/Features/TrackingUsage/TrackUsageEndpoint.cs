using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsage;

public static class TrackUsageEndpoint
{
    public static void MapTrackUsage(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/track", (string orgId, TrackUsageBody body, HttpContext http) =>
            {
                var command = new TrackUsage(
                    orgId, body.Feature ?? "", body.Quantity, body.IdempotencyKey,
                    http.Request.Headers["Idempotency-Key"].FirstOrDefault(), body.OccurredAt, body.Enforce, body.Properties);
                return PrefersAsync(http.Request)
                    ? QueueAsync(command, http)
                    : http.Send<TrackUsage, TrackUsageResponse>(command);
            })
            .RequireAuthorization(Scopes.Write)
            .AddEndpointFilter(UsageMetrics.Timed(UsageMetrics.TrackDuration))
            .Produces<TrackUsageResponse>().Produces<TrackUsageAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("TrackUsage")
            .WithSummary("Record that an organisation used some of a feature (enforce: only within its limit; Prefer: respond-async: 202 once durably queued).");

    /// <summary>RFC 7240: the client prefers a 202 as soon as the call is durably accepted.</summary>
    private static bool PrefersAsync(HttpRequest request) =>
        request.Headers["Prefer"].Any(value => value?.Contains("respond-async", StringComparison.OrdinalIgnoreCase) == true);

    private static Task<IResult> QueueAsync(TrackUsage command, HttpContext http) =>
        http.Send<QueueTrackUsage, TrackUsageAccepted>(new QueueTrackUsage(command), accepted =>
        {
            http.Response.Headers["Preference-Applied"] = "respond-async";
            return TypedResults.Accepted((string?)null, accepted);
        });
}
