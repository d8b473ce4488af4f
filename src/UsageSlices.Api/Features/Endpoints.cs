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
using UsageSlices.Infrastructure;

namespace UsageSlices.Features;

/// <summary>The table of contents of the HTTP API: one line per slice, by area.</summary>
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

        // Grouped by area: each group's tag is its section of /openapi/v1.json and of the /docs page (ApiAreas).
        var organisations = api.MapGroup("").WithTags(ApiAreas.Organisations);
        organisations.MapRegisterOrganisation();
        organisations.MapGetOrganisation();
        organisations.MapListOrganisations();
        organisations.MapAssignTier();
        organisations.MapGrantOverride();
        organisations.MapListOverrides();
        organisations.MapRevokeOverride();

        var usage = api.MapGroup("").WithTags(ApiAreas.Usage);
        usage.MapTrackUsage();
        usage.MapTrackUsageBatch();
        usage.MapCheckLimit();
        usage.MapGetLimits();
        usage.MapListUsageEvents();
        usage.MapGetUsageHistory();
        usage.MapCorrectUsage();
        usage.MapVoidUsageEvent();

        var reservations = api.MapGroup("").WithTags(ApiAreas.Reservations);
        reservations.MapReserveUsage();
        reservations.MapCommitReservation();
        reservations.MapReleaseReservation();
        reservations.MapListReservations();

        var tiers = api.MapGroup("").WithTags(ApiAreas.Tiers);
        tiers.MapListTiers();
        tiers.MapGetTier();
        tiers.MapUpsertTier();
        tiers.MapListFeatures();

        var webhooks = api.MapGroup("").WithTags(ApiAreas.Webhooks);
        webhooks.MapRegisterWebhook();
        webhooks.MapListWebhooks();
        webhooks.MapGetWebhook();
        webhooks.MapChangeWebhook();
        webhooks.MapDeleteWebhook();
        webhooks.MapRotateWebhookSecret();
        webhooks.MapTestWebhook();
        webhooks.MapListWebhookDeliveries();
        webhooks.MapRetryWebhookDelivery();

        var operations = api.MapGroup("").WithTags(ApiAreas.Operations);
        operations.MapGetUsageStats();
        operations.MapExportUsage();
    }
}
