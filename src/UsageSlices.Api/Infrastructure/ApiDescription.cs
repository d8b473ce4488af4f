using System.Text.Json;
using Microsoft.OpenApi;

namespace UsageSlices.Infrastructure;

/// <summary>A request body that shows an example of itself in /openapi/v1.json; the slice that owns it writes it.</summary>
public interface IHasExample
{
    static abstract object Example { get; }
}

/// <summary>The areas of the API, in the order /openapi/v1.json and the /docs page list them, each with what it holds.</summary>
public static class ApiAreas
{
    public const string Organisations = "Organisations";
    public const string Usage = "Usage";
    public const string Reservations = "Reservations";
    public const string Tiers = "Tiers";
    public const string Webhooks = "Webhooks";
    public const string Operations = "Operations";

    public static readonly IReadOnlyList<(string Name, string Description)> All =
    [
        (Organisations, "Organisations, their tier, and per-organisation overrides of a tier's limits."),
        (Usage, "Track usage, check a limit, the limits page; the event log, history and corrections."),
        (Reservations, "Hold usage whose cost is known afterwards, then commit what it used or release it."),
        (Tiers, "Subscription tiers, their limits and alert thresholds, and the catalog's features."),
        (Webhooks, "Signed webhooks of threshold crossings, tier changes, overrides and expiries; their deliveries."),
        (Operations, "Figures for monitoring, and the export of usage for billing."),
    ];
}

/// <summary>
/// /openapi/v1.json: the areas as tags, short operation names (the sidebar's), examples on request bodies, and the
/// bearer scheme every /api route needs.
/// </summary>
public static class ApiDescription
{
    public static IServiceCollection AddUsageApiDescription(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (context.JsonTypeInfo.Type.GetInterface(nameof(IHasExample)) is not null
                    && context.JsonTypeInfo.Type.GetProperty(nameof(IHasExample.Example))?.GetValue(null) is { } example)
                    schema.Examples = [JsonSerializer.SerializeToNode(example, JsonSerializerOptions.Web)!];
                return Task.CompletedTask;
            });
            // The sidebar and the search show an operation's summary: its name in words ("List webhook deliveries"),
            // with the sentence the slice wrote as its description.
            options.AddOperationTransformer((operation, _, _) =>
            {
                if (operation.OperationId is { Length: > 0 } name)
                {
                    operation.Description ??= operation.Summary;
                    operation.Summary = InWords(name);
                }
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Tags = new HashSet<OpenApiTag>(ApiAreas.All.Select(area => new OpenApiTag { Name = area.Name, Description = area.Description }));
                // Relative, never the request's Host header: a document served to anyone must not echo what they sent.
                document.Servers = [new OpenApiServer { Url = "/" }];
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

    /// <summary>"ListWebhookDeliveries" as "List webhook deliveries".</summary>
    public static string InWords(string pascalCase) =>
        string.Concat(pascalCase.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()));
}
