using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsage;

public static class TrackUsageEndpoint
{
    public static void MapTrackUsage(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/track", (string orgId, TrackUsageBody body, HttpContext http) =>
                http.Send<TrackUsage, TrackUsageResponse>(new TrackUsage(
                    orgId, body.Feature ?? "", body.Quantity, body.IdempotencyKey,
                    http.Request.Headers["Idempotency-Key"].FirstOrDefault(), body.OccurredAt, body.Enforce, body.Properties)))
            .RequireAuthorization(Scopes.Write)
            .WithName("TrackUsage")
            .WithSummary("Record that an organisation used some of a feature (enforce: only within its limit).");
}
