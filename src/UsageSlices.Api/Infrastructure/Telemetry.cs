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
        "usage_slices.enforce.rejections", "{call}", "Enforce-mode calls refused with 402, by feature and reason");

    private static readonly Counter<long> TrackingFailures = Meter.CreateCounter<long>(
        "usage_slices.tracking.failures", "{event}", "Queued track calls that failed (each logged as 'Failed to track usage')");

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
/// Async track calls accepted (202) and not yet counted, read from Wolverine's inbox table when metrics are scraped,
/// tagged with the schema. The gauge is process-wide (metric listeners are), so each host registers its database
/// here and hosts of the same database share one reading.
/// </summary>
public sealed class QueueDepthGauge : IDisposable
{
    private static readonly Dictionary<string, (NpgsqlDataSource Database, string MessageType, int Hosts)> Databases = [];
    private static readonly Meter Meter = new(UsageMetrics.MeterName);
    private readonly string schema;

    static QueueDepthGauge() =>
        Meter.CreateObservableGauge("usage_slices.async.queue_depth", Read, "{message}", "Async track calls accepted (202) and not yet counted");

    /// <param name="messageType">Wolverine's name of the queued message, which the inbox table records with it.</param>
    public QueueDepthGauge(DatabaseSettings database, string messageType)
    {
        schema = database.Schema;
        lock (Databases)
        {
            Databases[schema] = Databases.TryGetValue(schema, out var known)
                ? known with { Hosts = known.Hosts + 1 }
                : (NpgsqlDataSource.Create(database.ConnectionString), messageType, 1);
        }
    }

    public void Dispose()
    {
        lock (Databases)
        {
            var (database, messageType, hosts) = Databases[schema];
            if (hosts > 1)
            {
                Databases[schema] = (database, messageType, hosts - 1);
                return;
            }

            Databases.Remove(schema);
            database.Dispose();
        }
    }

    private static IEnumerable<Measurement<long>> Read()
    {
        KeyValuePair<string, (NpgsqlDataSource Database, string MessageType, int Hosts)>[] databases;
        lock (Databases)
            databases = [.. Databases];

        var measurements = new List<Measurement<long>>();
        foreach (var (schema, (database, messageType, _)) in databases)
        {
            try
            {
                using var command = database.CreateCommand(
                    $"select count(*) from {schema}.wolverine_incoming_envelopes where status <> 'Handled' and message_type = $1");
                command.Parameters.Add(new NpgsqlParameter { Value = messageType });
                command.CommandTimeout = 2;
                measurements.Add(new Measurement<long>((long)command.ExecuteScalar()!, new KeyValuePair<string, object?>("schema", schema)));
            }
            catch (Exception exception) when (exception is NpgsqlException or ObjectDisposedException or InvalidOperationException)
            {
                // The database is unreachable (or its host is shutting down): report nothing rather than a stale number.
            }
        }

        return measurements;
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

public static class Telemetry
{
    /// <summary>
    /// OpenTelemetry traces and metrics for ASP.NET Core, Npgsql, Marten, Wolverine, the runtime and the service's
    /// own meter. Metrics are scraped at /metrics; traces go to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    /// <param name="queuedMessage">The message that holds an accepted async track call, whose backlog the queue gauge reports.</param>
    public static WebApplicationBuilder AddUsageTelemetry(this WebApplicationBuilder builder, Type queuedMessage)
    {
        builder.Services.AddSingleton(services => new QueueDepthGauge(services.GetRequiredService<DatabaseSettings>(), queuedMessage.ToMessageTypeName()));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("usage-slices"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
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
