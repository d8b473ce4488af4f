using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Readiness without database work per request: ASP.NET Core's health-check publisher runs the PostgreSQL probe
/// every <see cref="Period"/> and hands the report here; <c>/health/ready</c> answers from the last one. A flood of
/// unauthenticated readiness requests therefore costs the database nothing, where a probe per request once took
/// an instance from 3 to 43 connections.
/// </summary>
public sealed class DatabaseProbe(TimeProvider time) : IHealthCheckPublisher, IHealthCheck
{
    public const string ProbeTag = "probe";
    public const string ReadyTag = "ready";

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>A report older than this means the probe itself is stuck: not ready.</summary>
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(10);

    private volatile Probed? last;

    private sealed record Probed(HealthStatus Status, string? Description, DateTimeOffset At);

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        last = new Probed(report.Status, report.Entries.Values.Select(entry => entry.Description).FirstOrDefault(d => d is not null), time.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(last switch
        {
            null => HealthCheckResult.Unhealthy("The database has not been probed yet."),
            { At: var at } when time.GetUtcNow() - at > Stale => HealthCheckResult.Unhealthy("The database probe has not reported for a while."),
            { Status: HealthStatus.Healthy } => HealthCheckResult.Healthy(),
            var probed => new HealthCheckResult(probed.Status, probed.Description),
        });
}

public static class HealthSetup
{
    public static IServiceCollection AddDatabaseProbe(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton<DatabaseProbe>();
        services.AddSingleton<IHealthCheckPublisher>(provider => provider.GetRequiredService<DatabaseProbe>());
        services.Configure<HealthCheckPublisherOptions>(options =>
        {
            options.Delay = TimeSpan.Zero;
            options.Period = DatabaseProbe.Period;
            options.Timeout = TimeSpan.FromSeconds(3);
            options.Predicate = check => check.Tags.Contains(DatabaseProbe.ProbeTag);
        });
        services.AddHealthChecks()
            .AddNpgSql(ConnectionBudget.OneConnection(connectionString), name: "postgres", tags: [DatabaseProbe.ProbeTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<DatabaseProbe>("database", tags: [DatabaseProbe.ReadyTag]);
        return services;
    }
}
