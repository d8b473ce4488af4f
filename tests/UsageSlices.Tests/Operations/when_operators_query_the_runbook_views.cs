using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Operations;

public sealed class when_operators_query_the_runbook_views(AppFixture app) : ApiTest(app)
{
    // The runbook's monitoring queries, exactly as it writes them.
    private const string EventsInTheLastHour = """
        SELECT COUNT(*) FROM usage_events
        WHERE created_at > NOW() - INTERVAL '1 hour';
        """;

    private const string TierDistribution = """
        SELECT subscription_tier, COUNT(*)
        FROM organisations
        GROUP BY subscription_tier;
        """;

    [Fact]
    public async Task the_usage_event_count_of_the_last_hour_runs_as_written()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 5);
        await TrackAsync("acme", "TEAM_MEMBERS", 1);
        await TrackAsync("acme", "TEAM_MEMBERS", -1);

        await using var connection = await OpenAsync();
        await using var count = new NpgsqlCommand(EventsInTheLastHour, connection);

        ((long)(await count.ExecuteScalarAsync(Cancel))!).ShouldBe(3);
    }

    [Fact]
    public async Task the_tier_distribution_runs_as_written()
    {
        await RegisterAsync("a");
        await RegisterAsync("b");
        await RegisterAsync("c", "pro");

        await using var connection = await OpenAsync();
        await using var query = new NpgsqlCommand(TierDistribution, connection);
        var rows = new Dictionary<string, long>();
        await using (var reader = await query.ExecuteReaderAsync(Cancel))
        {
            while (await reader.ReadAsync(Cancel))
                rows[reader.GetString(0)] = reader.GetInt64(1);
        }

        rows.ShouldBe(new Dictionary<string, long> { ["free"] = 2, ["pro"] = 1 }, ignoreOrder: true);
    }

    [Fact]
    public async Task the_views_show_organisations_tiers_and_events_with_the_runbooks_columns()
    {
        await RegisterAsync("acme", "starter");
        await TrackAsync("acme", "DOCUMENT_SCANS", 4);

        await using var connection = await OpenAsync();
        await using var query = new NpgsqlCommand(
            """
            SELECT o.slug, o.subscription_tier, t.price_monthly, e.feature, e.quantity, e.organisation_id
            FROM organisations o
            JOIN subscription_tiers t ON t.code = o.subscription_tier
            JOIN usage_events e ON e.organisation_id = o.id
            """, connection);
        await using var reader = await query.ExecuteReaderAsync(Cancel);
        (await reader.ReadAsync(Cancel)).ShouldBeTrue();
        reader.GetString(0).ShouldBe("acme");
        reader.GetString(1).ShouldBe("starter");
        reader.GetDecimal(2).ShouldBe(29m);
        reader.GetString(3).ShouldBe("DOCUMENT_SCANS");
        reader.GetInt64(4).ShouldBe(4);
        reader.GetString(5).ShouldBe("acme");
    }

    /// <summary>
    /// The operators' read-only role of the local set-up (build/ensure-database.sh), connected with no search path of
    /// its own: it finds the views through the database's default search path, which db-apply sets.
    /// </summary>
    [Fact]
    public async Task the_runbooks_sql_runs_as_written_for_another_role_that_may_read_the_database()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is not null, "The reader role exists only in the local set-up.");
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "AI_MESSAGES", 5);
        // What db-apply does: other schemas' hosts share this test database, and the last one applied names its own.
        await Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

        var reader = new NpgsqlConnectionStringBuilder(AppFixture.ConnectionString) { Username = "usage_slices_reader", Password = "usage_slices_reader" };
        await using var connection = new NpgsqlConnection(reader.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand(EventsInTheLastHour, connection);
        await using var tiers = new NpgsqlCommand(TierDistribution, connection);

        ((long)(await count.ExecuteScalarAsync(Cancel))!).ShouldBe(1);
        await using var rows = await tiers.ExecuteReaderAsync(Cancel);
        (await rows.ReadAsync(Cancel)).ShouldBeTrue();
        (rows.GetString(0), rows.GetInt64(1)).ShouldBe(("pro", 1L));
    }

    [Fact]
    public async Task the_views_are_read_only()
    {
        await RegisterAsync("acme");
        await using var connection = await OpenAsync();

        await Should.ThrowAsync<PostgresException>(async () =>
        {
            await using var update = new NpgsqlCommand("UPDATE organisations SET subscription_tier = 'pro' WHERE slug = 'acme'", connection);
            await update.ExecuteNonQueryAsync(Cancel);
        });
        ((string)(await CheckAsync("acme", "AI_MESSAGES"))["tier"]!).ShouldBe("free");
    }

    [Fact]
    public async Task usage_stats_reports_the_same_figures_to_an_admin()
    {
        await RegisterAsync("a");
        await RegisterAsync("b", "pro");
        await TrackAsync("a", "AI_MESSAGES", 2);
        await TrackAsync("b", "API_CALLS", 7);
        await TrackAsync("b", "API_CALLS", 1);

        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/stats");
            x.WithBearerToken(AdminToken);
        });

        var stats = await BodyOf(result);
        ((long)stats["organisations"]!).ShouldBe(2);
        ((long)stats["organisationsByTier"]!["free"]!).ShouldBe(1);
        ((long)stats["organisationsByTier"]!["pro"]!).ShouldBe(1);
        ((long)stats["eventsLastHour"]!).ShouldBe(3);
        ((long)stats["eventsLast24Hours"]!).ShouldBe(3);
        var apiCalls = stats["features"]!.AsArray().Single(f => (string)f!["feature"]! == "API_CALLS")!;
        ((long)apiCalls["eventsLastHour"]!).ShouldBe(2);

        // The day's chart: 24 consecutive clock hours, the current one last, holding every event of the test.
        var hours = stats["eventsPerHour"]!.AsArray().Select(h => (Hour: (DateTimeOffset)h!["hour"]!, Events: (long)h["events"]!)).ToList();
        hours.Count.ShouldBe(24);
        hours.Zip(hours.Skip(1)).ShouldAllBe(pair => pair.Second.Hour - pair.First.Hour == TimeSpan.FromHours(1));
        var asOf = (DateTimeOffset)stats["asOf"]!;
        (hours[^1].Hour <= asOf && asOf < hours[^1].Hour.AddHours(1)).ShouldBeTrue();
        hours.Sum(h => h.Events).ShouldBe(3);
    }

    [Fact]
    public async Task usage_stats_is_for_admins_only()
    {
        await RegisterAsync("acme");

        await GetProblemAsync("/api/v1/usage/stats", TokenFor("acme"), 403);
    }

    /// <summary>As an operator's psql session: the service's schema on the search path (see docs/operations.md).</summary>
    private static async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection($"{AppFixture.ConnectionString};Search Path={AppFixture.Schema}");
        await connection.OpenAsync(Cancel);
        return connection;
    }
}
