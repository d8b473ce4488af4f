using System.Net;
using Npgsql;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>Health and metrics answer anyone without a token: they must cost the database nothing per request.</summary>
public sealed class when_unauthenticated_traffic_floods_in(AppFixture app) : ApiTest(app)
{
    [Theory]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    public async Task a_flood_opens_no_database_connection(string url)
    {
        await Eventually.WaitUntilAsync(async () => (await Host.Server.CreateClient().GetAsync("/health/ready", Cancel)).IsSuccessStatusCode, "never ready");
        var before = await BackendsAsync();

        using var client = Host.Server.CreateClient();
        var statuses = new List<HttpStatusCode>();
        var busiest = before;
        for (var wave = 0; wave < 5; wave++)
        {
            var flood = Enumerable.Range(0, 40).Select(async _ =>
            {
                using var response = await client.GetAsync(url, Cancel);
                return response.StatusCode;
            }).ToList();
            busiest = Math.Max(busiest, await BackendsAsync());
            statuses.AddRange(await Task.WhenAll(flood));
        }

        statuses.ShouldAllBe(status => status == HttpStatusCode.OK);
        // The readiness probe and the queue gauge each hold one connection of their own, open before the flood; Wolverine's
        // agents (polling every few seconds) may open one or two more at any moment. A connection per call would be 40.
        busiest.ShouldBeLessThanOrEqualTo(before + 3);
    }

    /// <summary>
    /// The queue gauge's query (named by its leading comment, apart from Wolverine's own queries of the inbox), as
    /// PostgreSQL shows it: its start time changes only when the query runs again. A scrape that ran it would change
    /// it with nearly every wave of scrapes; sampling changes it every 5 s at most.
    /// </summary>
    [Fact]
    public async Task a_flood_of_scrapes_runs_no_query()
    {
        using var client = Host.Server.CreateClient();
        (await client.GetAsync("/metrics", Cancel)).EnsureSuccessStatusCode();
        // The gauge's connection is closed now and then by Npgsql's idle pruning and opened again at its next sample:
        // wait until PostgreSQL shows it, so that the waves below have a query to watch.
        var starts = new HashSet<DateTime>();
        await Eventually.WaitUntilAsync(async () =>
        {
            starts.UnionWith(await GaugeQueryStartsAsync());
            return starts.Count > 0;
        }, "the gauge's query was never seen, so this test would see nothing", QueueDepthGauge.SamplePeriod * 3);

        for (var wave = 0; wave < 10; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => (await client.GetAsync("/metrics", Cancel)).EnsureSuccessStatusCode()));
            starts.UnionWith(await GaugeQueryStartsAsync());
        }

        // The sample seen before the waves, and at most one more that fell due during them.
        starts.Count.ShouldBeLessThanOrEqualTo(2);
    }

    private static async Task<List<DateTime>> GaugeQueryStartsAsync()
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var query = new NpgsqlCommand(
            $"select query_start from pg_stat_activity where query like '/* {QueueDepthGauge.QueryName} */ %{AppFixture.Schema}.wolverine_incoming_envelopes%' and pid <> pg_backend_pid()", connection);
        var starts = new List<DateTime>();
        await using var reader = await query.ExecuteReaderAsync(Cancel);
        while (await reader.ReadAsync(Cancel))
            starts.Add(reader.GetDateTime(0));
        return starts;
    }

    /// <summary>The service's connections to the test database as PostgreSQL counts them (the probe's own excluded).</summary>
    private static async Task<long> BackendsAsync()
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand("select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()", connection);
        return (long)(await count.ExecuteScalarAsync(Cancel))!;
    }
}

/// <summary>The published service in Production: metrics only on the management address, and nothing of the connection in them.</summary>
[Collection(nameof(AppCollection))]
public sealed class when_metrics_are_scraped_in_production(RunningService running) : IClassFixture<RunningService>
{
    [Fact]
    public async Task the_public_port_does_not_serve_metrics_and_the_management_port_names_no_connection_details()
    {
        using var client = new HttpClient();

        using var onPublic = await client.GetAsync(new Uri(running.Service.BaseAddress, "/metrics"), TestContext.Current.CancellationToken);
        var scrape = await client.GetStringAsync(new Uri(running.Service.ManagementAddress, "/metrics"), TestContext.Current.CancellationToken);

        onPublic.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        onPublic.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        scrape.ShouldContain("usage_slices_");
        scrape.ShouldNotContain("db_client_connection_pool_name");
        scrape.ShouldNotContain("Username=");
        scrape.ShouldNotContain("Host=");
    }
}
