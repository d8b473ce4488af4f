using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using JasperFx;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Rewrite;
using Scalar.AspNetCore;
using UsageSlices.Commands;
using UsageSlices.Domain.Usage;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Features;
using UsageSlices.Features.DeliveringWebhooks;
using UsageSlices.Features.ExpiringOverrides;
using UsageSlices.Features.ReleasingReservations;
using UsageSlices.Features.TrackingUsage;
using UsageSlices.Infrastructure;

var builder = WebApplication.CreateBuilder(args);
// The runbook's curl commands call port 3000; --urls or ASPNETCORE_URLS still choose another. Metrics listen apart.
var management = ManagementSettings.From(builder.Configuration);
builder.WebHost.UseUrls($"{builder.Configuration["urls"] ?? "http://localhost:3000"};{management.Urls}");

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.Configure<UsageSettings>(builder.Configuration.GetSection("Usage"));
var webhooks = WebhookSettings.From(builder.Configuration, builder.Environment.IsDevelopment());
builder.Services.AddSingleton(webhooks).AddWebhookHttp(webhooks);
// Single calls are small; only the batch route (its own limit) takes up to 1 MiB.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxBodyBytes);
builder.Services.ConfigureHttpJsonOptions(options =>
{
    options.SerializerOptions.MaxDepth = RequestLimits.MaxJsonDepth;
    options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    // No mass assignment: a property the contract does not name is an error, not silently dropped.
    options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
    // {"quantity":1,"quantity":40} is ambiguous: refused (400), not read as its last value.
    options.SerializerOptions.AllowDuplicateProperties = false;
});
Dispatch.UseCamelCaseValidationKeys();
// Validators hold no per-request state, and building one compiles its rules: build each once, not per call.
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton);
builder.Services.AddUsageProblemDetails();
builder.Services.AddUsageAuthentication(AuthSettings.From(builder.Configuration, builder.Environment));
builder.Services.AddUsageRateLimiting(builder.Configuration);
builder.Services.AddUsageApiDescription();
// Marten and Wolverine; the slices say where their messages go, and operator commands run Wolverine as a mediator only.
builder.AddUsagePersistence(
    wolverine =>
    {
        wolverine.RouteQueuedUsage();
        wolverine.RouteReservationExpiries();
        wolverine.RouteOverrideExpiries();
        wolverine.RouteWebhooks();
        wolverine.RouteCatalogReplication();
    },
    mediatorOnly: OperatorBus.IsRunningIn(args));
builder.AddUsageTelemetry(queuedMessage: typeof(RecordQueuedUsage));

var app = builder.Build();

app.UseExceptionHandler();
app.UseUsageMetricsEndpoint(management);
// The interactive API page lives at /docs/ and the dashboard at /admin/ (their files are loaded relative to them).
app.UseRewriter(new RewriteOptions().AddRedirect("^docs$", "docs/").AddRedirect("^admin$", "admin/"));
app.UseDashboard();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseMinimumBodyRates();

app.MapUsageApi();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(DatabaseProbe.ReadyTag) });
app.MapOpenApi();
// The interactive page loads its script from this service and no web fonts.
// None of the buttons that need Scalar's cloud (its AI agent, MCP, the developer tools' deploy and SDK generation),
// and no telemetry: everything on the page works offline.
app.MapScalarApiReference("/docs", options => options.WithTitle("UsageSlices API").DisableDefaultFonts()
    .DisableAgent().DisableMcp().HideDeveloperTools().DisableTelemetry());
// A route that names no organisation it acts on would be open to every organisation's token: refuse to start.
Access.RequireDeclaredOrganisations(((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints));

return await app.RunJasperFxCommands(args);

/// <summary>The web host's entry point, public so that tests can host it.</summary>
public partial class Program;
