using System.Text.Json;
using Microsoft.OpenApi;
using UsageSlices.Features.AssigningTiers;
using UsageSlices.Features.RegisteringOrganisations;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Features.TrackingUsageInBatches;
using UsageSlices.Features.UpsertingTiers;

namespace UsageSlices.Infrastructure;

/// <summary>/openapi/v1.json: examples on request bodies, and the bearer scheme every /api route needs.</summary>
public static class ApiDescription
{
    private static readonly Dictionary<Type, object> Examples = new()
    {
        [typeof(TrackUsageBody)] = new { feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "msg-42", enforce = false, properties = new { chatId = "c-9" } },
        [typeof(TrackUsageBatchBody)] = new
        {
            events = new[]
            {
                new { orgId = "acme", feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "m-1" },
                new { orgId = "acme", feature = "DOCUMENT_SCANS", quantity = 1, idempotencyKey = "s-1" },
            },
        },
        [typeof(RegisterOrganisationBody)] = new { slug = "acme", name = "Acme Ltd", tier = "free", billingAnchorDay = 1 },
        [typeof(AssignTierBody)] = new { tier = "pro", reason = "Upgraded in billing" },
        [typeof(UpsertTierBody)] = new
        {
            name = "Team",
            priceMonthly = 49m,
            currency = "USD",
            limits = new Dictionary<string, object?> { ["AI_MESSAGES"] = 2_000, ["INVOICES"] = null, ["API_ACCESS"] = true },
        },
    };

    public static IServiceCollection AddUsageApiDescription(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example))
                    schema.Examples = [JsonSerializer.SerializeToNode(example, JsonSerializerOptions.Web)!];
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "UsageSlices API";
                document.Info.Description = "Usage metering and plan limits. Every /api route needs a JWT bearer token (scopes usage:read, usage:write, usage:admin); every error is RFC 9457 problem+json.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A token with sub, org_id, scope, iss and aud; `token` mints one for local use.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
                return Task.CompletedTask;
            });
        });
}
