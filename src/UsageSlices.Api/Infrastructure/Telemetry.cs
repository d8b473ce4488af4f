using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Marten;
using Marten.Services;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using Wolverine.Util;

namespace UsageSlices.Infrastructure;

/// <summary>The service's own instruments, exported with the framework's at <c>/metrics</c> (Prometheus).</summary>
public static class UsageMetrics
{
    public const string MeterName = "UsageSlices";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> EventsRecorded = Meter.CreateCounter<long>(
        "usage_slices.events.recorded", "{event}", "Usage events committed, by feature");

    private static readonly Counter<long> QuantityRecorded = Meter.CreateCounter<long>(
        "usage_slices.quantity.recorded", "{unit}", "Quantity committed, by feature (releases count negative)");

    private static readonly Counter<long> EnforceRejections = Meter.CreateCounter<long>(
        "usage_slices.enforce.rejections", "{call}", "Enforce-mode calls and reservations refused with 402, by feature and reason");

    private static readonly Counter<long> TrackingFailures = Meter.CreateCounter<long>(
        "usage_slices.tracking.failures", "{event}", "Queued track calls that failed (each logged as 'Failed to track usage')");

    private static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>(
        "usage_slices.webhook.attempts", "{attempt}", "Webhook delivery attempts, by event type and outcome (delivered, rejected, unreachable)");

    private static readonly Counter<long> WebhookFailures = Meter.CreateCounter<long>(
        "usage_slices.webhook.failures", "{delivery}", "Webhook deliveries given up: retries spent, 410 Gone, or the endpoint disabled or deleted");

    private static readonly Histogram<double> WebhookDuration = Meter.CreateHistogram<double>(
        "usage_slices.webhook.duration", "s", "Time a webhook receiver took to answer an attempt");

    public static readonly Histogram<double> TrackDuration = Meter.CreateHistogram<double>(
        "usage_slices.track.duration", "s", "Time to answer a track call, from the endpoint's point of view");

    public static readonly Histogram<double> CheckDuration = Meter.CreateHistogram<double>(
        "usage_slices.check.duration", "s", "Time to answer a check call, from the endpoint's point of view");

    public static void Recorded(UsageRecorded recorded)
    {
        var feature = new KeyValuePair<string, object?>("feature", recorded.Feature);
        EventsRecorded.Add(1, feature);
        QuantityRecorded.Add(recorded.Quantity, feature);
    }

    public static void EnforceRejected(LimitReached refusal) =>
        EnforceRejections.Add(1, new KeyValuePair<string, object?>("feature", refusal.Feature), new KeyValuePair<string, object?>("reason", refusal.Reason.Code()));

    public static void WebhookAttempted(string eventType, Domain.Webhooks.WebhookAttempt attempt)
    {
        var outcome = attempt.StatusCode switch
        {
            >= 200 and < 300 => "delivered",
            null => "unreachable",
            _ => "rejected",
        };
        WebhookAttempts.Add(1, new KeyValuePair<string, object?>("event_type", eventType), new KeyValuePair<string, object?>("outcome", outcome));
        WebhookDuration.Record(attempt.DurationMs / 1000.0, new KeyValuePair<string, object?>("event_type", eventType));
    }

    public static void WebhookFailed(string eventType) => WebhookFailures.Add(1, new KeyValuePair<string, object?>("event_type", eventType));

    public static void TrackingFailed(string feature) => TrackingFailures.Add(1, new KeyValuePair<string, object?>("feature", feature));

    /// <summary>Times an endpoint into <paramref name="histogram"/>, whatever it answers.</summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Timed(Histogram<double> histogram) =>
        async (context, next) =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                return await next(context);
            }
            finally
            {
                histogram.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        };
}

/// <summary>
/// Async track calls accepted (202) and not yet counted, tagged with the schema. Sampled from Wolverine's inbox
/// table every <see cref="SamplePeriod"/> by each host, never by a scrape, so scraping costs the database nothing.
/// The gauge is process-wide (metric listeners are), so hosts of one schema share its reading; a host that cannot
/// reach its database reports nothing rather than a stale number.
/// </summary>
/// <param name="messageType">Wolverine's name of the queued message, which the inbox table records with it.</param>
public sealed class QueueDepthGauge(DatabaseSettings database, string messageType) : BackgroundService
{
    public static readonly TimeSpan SamplePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Leads the sampling query as a comment, so that <c>pg_stat_activity</c> tells it from Wolverine's own queries of the inbox.</summary>
    public const string QueryName = "usage_slices_queue_depth";

    private static readonly ConcurrentDictionary<string, long> Latest = new();
    private static readonly Meter Meter = new(UsageMetrics.MeterName);

    static QueueDepthGauge() =>
        Meter.CreateObservableGauge(
            "usage_slices.async.queue_depth",
            () => Latest.Select(sample => new Measurement<long>(sample.Value, new KeyValuePair<string, object?>("schema", sample.Key))).ToList(),
            "{message}", "Async track calls accepted (202) and not yet counted");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var source = NpgsqlDataSource.Create(ConnectionBudget.OneConnection(database.ConnectionString));
        using var timer = new PeriodicTimer(SamplePeriod);
        try
        {
            do
            {
                try
                {
                    await using var command = source.CreateCommand(
                        $"/* {QueryName} */ select count(*) from {database.Schema}.wolverine_incoming_envelopes where status <> 'Handled' and message_type = $1");
                    command.Parameters.Add(new NpgsqlParameter { Value = messageType });
                    command.CommandTimeout = 2;
                    Latest[database.Schema] = (long)(await command.ExecuteScalarAsync(stoppingToken))!;
                }
                // A host that is stopping says nothing of the database: removing the reading then would hide the
                // fresh one of another host of the same schema (hosts of one process share the gauge).
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
                {
                    Latest.TryRemove(database.Schema, out _);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Latest.TryRemove(database.Schema, out _);
        }
    }
}

/// <summary>Counts usage events when their transaction has committed, whichever path (single, batch, async) wrote them.</summary>
public sealed class UsageMetricsListener : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        foreach (var recorded in commit.GetEvents().Select(e => e.Data).OfType<UsageRecorded>())
            UsageMetrics.Recorded(recorded);
        return Task.CompletedTask;
    }
}

/// <summary>The <c>Management</c> section: where operators' endpoints listen, apart from the public API.</summary>
public sealed class ManagementSettings
{
    /// <summary>
    /// The addresses of <c>/metrics</c>: loopback by default, so that a scraper on the host (or a sidecar) reads it and
    /// the public port never shows it. Development also serves it on the public port.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:9464";

    public static ManagementSettings From(IConfiguration configuration) =>
        configuration.GetSection("Management").Get<ManagementSettings>() ?? new ManagementSettings();

    public IReadOnlySet<int> Ports =>
        Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => new Uri(url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal)).Port)
            .ToHashSet();
}

public static class Telemetry
{
    /// <summary>
    /// <c>/metrics</c> (Prometheus) only on the management addresses, outside Development: the scrape shows every
    /// feature's totals and the service's internals, and nothing unauthenticated on the public port may.
    /// </summary>
    public static WebApplication UseUsageMetricsEndpoint(this WebApplication app, ManagementSettings management)
    {
        var ports = management.Ports;
        var anywhere = app.Environment.IsDevelopment();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(http =>
            http.Request.Path == "/metrics" && (anywhere || ports.Contains(http.Connection.LocalPort)));
        return app;
    }

    /// <summary>
    /// OpenTelemetry traces and metrics for ASP.NET Core, Npgsql, Marten, Wolverine, the runtime and the service's
    /// own meter. Metrics are scraped at /metrics; traces go to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    /// <param name="queuedMessage">The message that holds an accepted async track call, whose backlog the queue gauge reports.</param>
    public static WebApplicationBuilder AddUsageTelemetry(this WebApplicationBuilder builder, Type queuedMessage)
    {
        builder.Services.AddHostedService(services => new QueueDepthGauge(services.GetRequiredService<DatabaseSettings>(), queuedMessage.ToMessageTypeName()));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("usage-slices"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                // Npgsql names its pools after the connection string (host, port, database, user): keep only the state.
                .AddView(instrument => instrument.Meter.Name == "Npgsql"
                    ? new MetricStreamConfiguration { TagKeys = ["db.client.connection.state"] }
                    : null)
                .AddMeter(UsageMetrics.MeterName, "Marten", "Wolverine")
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = http => !http.Request.Path.StartsWithSegments("/metrics"))
                .AddNpgsql()
                .AddSource("Marten", "Wolverine"));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();

        if (!builder.Environment.IsDevelopment())
        {
            // One JSON object per line, for log shippers.
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json => json.IncludeScopes = true);
        }

        return builder;
    }
}
