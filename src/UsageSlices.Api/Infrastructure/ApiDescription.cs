using System.Text.Json;
using Microsoft.OpenApi;

namespace UsageSlices.Infrastructure;

/// <summary>A request body that shows an example of itself in /openapi/v1.json; the slice that owns it writes it.</summary>
public interface IHasExample
{
    static abstract object Example { get; }
}

/// <summary>/openapi/v1.json: examples on request bodies, and the bearer scheme every /api route needs.</summary>
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
            options.AddDocumentTransformer((document, _, _) =>
            {
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
}
