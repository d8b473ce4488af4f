using UsageSlices.Features.AssigningTiers;
using UsageSlices.Features.ChangingWebhooks;
using UsageSlices.Features.CheckingLimits;
using UsageSlices.Features.CommittingReservations;
using UsageSlices.Features.CorrectingUsage;
using UsageSlices.Features.DeletingWebhooks;
using UsageSlices.Features.ExportingUsage;
using UsageSlices.Features.GettingLimits;
using UsageSlices.Features.GettingOrganisations;
using UsageSlices.Features.GettingTiers;
using UsageSlices.Features.GettingUsageHistory;
using UsageSlices.Features.GettingWebhooks;
using UsageSlices.Features.GrantingOverrides;
using UsageSlices.Features.ListingFeatures;
using UsageSlices.Features.ListingOrganisations;
using UsageSlices.Features.ListingOverrides;
using UsageSlices.Features.ListingReservations;
using UsageSlices.Features.ListingTiers;
using UsageSlices.Features.ListingUsageEvents;
using UsageSlices.Features.ListingWebhookDeliveries;
using UsageSlices.Features.ListingWebhooks;
using UsageSlices.Features.RegisteringOrganisations;
using UsageSlices.Features.RegisteringWebhooks;
using UsageSlices.Features.ReleasingReservations;
using UsageSlices.Features.ReportingUsageStats;
using UsageSlices.Features.ReservingUsage;
using UsageSlices.Features.RetryingWebhookDeliveries;
using UsageSlices.Features.RevokingOverrides;
using UsageSlices.Features.RotatingWebhookSecrets;
using UsageSlices.Features.TestingWebhooks;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Features.TrackingUsageInBatches;
using UsageSlices.Features.UpsertingTiers;
using UsageSlices.Features.VoidingUsageEvents;

namespace UsageSlices.Features;

/// <summary>The table of contents of the HTTP API: one line per slice.</summary>
public static class Endpoints
{
    public static void MapUsageApi(this IEndpointRouteBuilder app)
    {
        // What every route may answer besides its own: bad input, no or wrong token, too fast, database down.
        var api = app.MapGroup("/api/v1")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapRegisterOrganisation();
        api.MapGetOrganisation();
        api.MapListOrganisations();
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
        api.MapGrantOverride();
        api.MapListOverrides();
        api.MapRevokeOverride();
        api.MapReserveUsage();
        api.MapCommitReservation();
        api.MapReleaseReservation();
        api.MapListReservations();
        api.MapListUsageEvents();
        api.MapGetUsageHistory();
        api.MapCorrectUsage();
        api.MapVoidUsageEvent();
        api.MapExportUsage();
        api.MapRegisterWebhook();
        api.MapListWebhooks();
        api.MapGetWebhook();
        api.MapChangeWebhook();
        api.MapDeleteWebhook();
        api.MapRotateWebhookSecret();
        api.MapTestWebhook();
        api.MapListWebhookDeliveries();
        api.MapRetryWebhookDelivery();
    }
}
