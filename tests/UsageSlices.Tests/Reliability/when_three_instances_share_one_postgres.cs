using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Npgsql;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>
/// Three instances of the published service, with their default settings, on one PostgreSQL with its default 100
/// connections: however many calls pile up, each instance opens no more than its connection budget, so the three fit
/// with room left for operators, and no call meets PostgreSQL's "too many clients" (53300).
/// </summary>
[Collection(nameof(AppCollection))]
public sealed class when_three_instances_share_one_postgres
{
    private const string Schema = "usage_slices_budget";
    private const string ApplicationName = "usage-slices-budget-test";

    /// <summary>Pooled connections an instance's Wolverine agents may hold while the checks wait (its leader's lock, a poll in flight).</summary>
    private const int HeldByWolverineAtMost = 3;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task calls_held_up_at_the_database_fill_each_pool_but_never_postgres()
    {
        // The service's connection string names nothing but the database; the application name lets PostgreSQL tell these instances' connections apart.
        var connectionString = $"{AppFixture.ConnectionString};Application Name={ApplicationName}";
        var signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        await using var first = new ServiceProcess(Schema, connectionString, signingKey);
        await using var second = new ServiceProcess(Schema, connectionString, signingKey);
        await using var third = new ServiceProcess(Schema, connectionString, signingKey);
        await first.StartAsync(Cancel); // creates the schema; the others find it
        await Task.WhenAll(second.StartAsync(Cancel), third.StartAsync(Cancel));
        ServiceProcess[] instances = [first, second, third];

        var token = first.Tokens.Mint("budget-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        var clients = instances.Select(instance => new HttpClient { BaseAddress = instance.BaseAddress, Timeout = TimeSpan.FromSeconds(60) }).ToList();
        foreach (var client in clients)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var orgId = $"budget-{Guid.NewGuid():N}";
        using (var register = await clients[0].PutAsJsonAsync($"/api/v1/organisations/{orgId}", new { slug = orgId, name = "Budget", tier = "pro" }, Cancel))
            register.StatusCode.ShouldBe(HttpStatusCode.Created);

        // One check per instance first, so that each has its handlers compiled and the flood below fills every pool at once.
        foreach (var client in clients)
            (await client.GetAsync($"/api/v1/usage/{orgId}/check/AI_MESSAGES", Cancel)).EnsureSuccessStatusCode();

        var perInstance = ConnectionBudget.PerInstance(connectionString);
        var (maxConnections, reserved) = await ServerLimitsAsync();
        (3 * perInstance).ShouldBeLessThanOrEqualTo(maxConnections - reserved - ConnectionBudget.LeftForOperators);
        // The test run's own hosts (this process) count against PostgreSQL's limit too: their idle connections are
        // pruned after 10 s (AppFixture's connection string); the three instances' budget needs them gone, but for the
        // two this test opens itself (the lock holder and the probe).
        await Eventually.WaitUntilAsync(
            async () => await OthersConnectedAsync() <= ConnectionBudget.LeftForOperators - 2,
            "The test run's other connections to PostgreSQL were never released.", TimeSpan.FromSeconds(30));

        List<HttpResponseMessage> answers;
        var peak = 0L;
        await using (var blocker = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            // A check reads the catalog's version (with the organisation in memory) from the reads' pool; an
            // organisation's page reads its document from Marten's. With both tables locked, each call in flight holds
            // its connection until the lock goes.
            await blocker.OpenAsync(Cancel);
            await using var transaction = await blocker.BeginTransactionAsync(Cancel);
            await using (var lockTables = new NpgsqlCommand(
                $"lock table {Schema}.{CatalogVersion.Table}, {Schema}.mt_doc_organisation in access exclusive mode", blocker, transaction))
                await lockTables.ExecuteNonQueryAsync(Cancel);

            // Twice as many calls per instance as each pool holds: the rest wait inside the service for a pooled connection.
            var reads = ConnectionBudget.ForReads(ConnectionBudget.DefaultMaxPoolSize);
            var writers = ConnectionBudget.ForWriters(ConnectionBudget.DefaultMaxPoolSize);
            var calls = clients.SelectMany(client => Enumerable.Range(0, 2 * reads)
                .Select(_ => client.GetAsync($"/api/v1/usage/{orgId}/check/AI_MESSAGES", Cancel))
                .Concat(Enumerable.Range(0, 2 * writers).Select(_ => client.GetAsync($"/api/v1/organisations/{orgId}", Cancel)))).ToList();

            // Until every pool is full (each instance's calls hold all of both its pools), the count of what they hold is polled.
            await Eventually.WaitUntilAsync(async () =>
            {
                var (open, waiting) = await ConnectionsAsync();
                peak = Math.Max(peak, open);
                return waiting >= 3 * (reads + writers - HeldByWolverineAtMost);
            }, "the calls never filled the three instances' pools", TimeSpan.FromSeconds(30));
            peak = Math.Max(peak, (await ConnectionsAsync()).Open);

            await transaction.RollbackAsync(Cancel);
            answers = [.. await Task.WhenAll(calls)];
        }

        peak.ShouldBeLessThanOrEqualTo(3 * perInstance);
        answers.Select(answer => answer.StatusCode).ShouldAllBe(status => status == HttpStatusCode.OK);
        foreach (var client in clients)
            client.Dispose();
    }

    /// <summary>Client connections to PostgreSQL other than the three instances' (the test's own hosts and probes, operators).</summary>
    private static async Task<long> OthersConnectedAsync()
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand(
            "select count(*) from pg_stat_activity where backend_type = 'client backend' and application_name <> $1", connection);
        count.Parameters.Add(new NpgsqlParameter { Value = ApplicationName });
        return (long)(await count.ExecuteScalarAsync(Cancel))!;
    }

    private static async Task<(long Open, long WaitingForTheLock)> ConnectionsAsync()
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand(
            "select count(*), count(*) filter (where wait_event_type = 'Lock') from pg_stat_activity where application_name = $1", connection);
        count.Parameters.Add(new NpgsqlParameter { Value = ApplicationName });
        await using var reader = await count.ExecuteReaderAsync(Cancel);
        await reader.ReadAsync(Cancel);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<(int MaxConnections, int Reserved)> ServerLimitsAsync()
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var show = new NpgsqlCommand(
            "select current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int", connection);
        await using var reader = await show.ExecuteReaderAsync(Cancel);
        await reader.ReadAsync(Cancel);
        return (reader.GetInt32(0), reader.GetInt32(1));
    }
}
