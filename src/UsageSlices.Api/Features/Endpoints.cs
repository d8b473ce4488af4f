using UsageSlices.Features.AssigningTiers;
using UsageSlices.Features.CheckingLimits;
using UsageSlices.Features.GettingLimits;
using UsageSlices.Features.GettingOrganisations;
using UsageSlices.Features.GettingTiers;
using UsageSlices.Features.ListingFeatures;
using UsageSlices.Features.ListingTiers;
using UsageSlices.Features.RegisteringOrganisations;
using UsageSlices.Features.ReportingUsageStats;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Features.TrackingUsageInBatches;
using UsageSlices.Features.UpsertingTiers;

namespace UsageSlices.Features;

/// <summary>The table of contents of the HTTP API: one line per slice.</summary>
public static class Endpoints
{
    public static void MapUsageApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapRegisterOrganisation();
        api.MapGetOrganisation();
        api.MapTrackUsage();
        api.MapTrackUsageBatch();
        api.MapGetUsageStats();
        api.MapCheckLimit();
        api.MapGetLimits();
        api.MapAssignTier();
        api.MapListTiers();
        api.MapGetTier();
        api.MapUpsertTier();
        api.MapListFeatures();
    }
}
