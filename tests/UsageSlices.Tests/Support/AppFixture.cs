using Alba;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Tests.Support;

/// <summary>One real host of the service per test run, on a real PostgreSQL, in a schema of its own.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    public const string Schema = "usage_slices_tests";

    /// <summary>
    /// The tests' database. The hosts of one test run share PostgreSQL's 100 connections with the service processes
    /// that some tests start, so a host closes a pooled connection once it has been idle for 10 s: after a concurrent
    /// test fills a pool, the connections go back to PostgreSQL instead of waiting out Npgsql's 5 minutes. (Longer
    /// than the queue gauge's 5 s between samples, whose one connection therefore stays open, as in production.)
    /// </summary>
    public static string ConnectionString =>
        (Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? "Host=localhost;Port=5432;Database=usage_slices_tests;Username=usage_slices;Password=usage_slices")
        + ";Connection Idle Lifetime=10;Connection Pruning Interval=1";

    public IAlbaHost Host { get; private set; } = null!;

    /// <summary>The shared host's clock; every test starts at the real time.</summary>
    public TestClock Clock { get; } = new();

    public async ValueTask InitializeAsync() => Host = await StartHostAsync(clock: Clock);

    /// <summary>A host of the service on the tests' database; several of them act as several instances.</summary>
    public static Task<IAlbaHost> StartHostAsync(IReadOnlyDictionary<string, string>? settings = null, TimeProvider? clock = null)
    {
        JasperFxEnvironment.AutoStartHost = true;
        return AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
            builder.UseSetting("Database:Schema", Schema);
            // Webhook retries a test can wait for; the default schedule starts at 5 s and ends after a day.
            builder.UseSetting("Webhooks:RetrySchedule", "1s,1s,1s");
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
                builder.UseSetting(key, value);
            builder.ConfigureServices(services =>
            {
                // Lets tests read what the service logged (the runbook watches for 'Failed to track usage').
                services.AddLogging(logging => logging.AddFakeLogging());
                services.RunWolverineInSoloMode();
                services.DisableAllExternalWolverineTransports();
                if (clock is not null)
                    services.AddSingleton(clock);
            });
        });
    }

    /// <summary>Every test starts from an empty database holding only the seeded catalog.</summary>
    public async Task ResetAsync()
    {
        Clock.Reset();
        var store = Host.Services.GetRequiredService<IDocumentStore>();
        await store.Advanced.Clean.DeleteAllDocumentsAsync();
        await store.Advanced.Clean.DeleteAllEventDataAsync();
        // The read side of history is the service's own SQL, which Marten's clean-up does not know.
        await using (var session = store.LightweightSession())
        {
            var schema = store.Options.DatabaseSchemaName;
            session.QueueSqlCommand($"TRUNCATE {schema}.{UsageHistoryTables.EventLog}, {schema}.{UsageHistoryTables.Hourly}");
            await session.SaveChangesAsync();
        }

        await CatalogSeed.AddMissingAsync(store, CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(nameof(AppCollection))]
public sealed class AppCollection : ICollectionFixture<AppFixture>;
