using Marten;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Operations;

/// <summary>The project's and JasperFx's commands, run as operators run them: the service's program with arguments.</summary>
public sealed class when_operators_run_commands(AppFixture app) : ApiTest(app)
{
    private readonly ServiceProcess service = new(AppFixture.Schema);

    [Fact]
    public async Task db_apply_on_an_empty_schema_then_db_assert_passes_and_the_runbook_views_exist()
    {
        var schema = $"usage_slices_empty_{Guid.NewGuid():N}"[..32];
        // A database of its own: db-apply points the database's search_path at this schema (for the runbook's SQL),
        // and db-assert checks it, which any other test's service starting on a shared database would move meanwhile.
        var database = new NpgsqlConnectionStringBuilder(AppFixture.ConnectionString) { Database = "usage_slices_tests_commands" }.ConnectionString;
        var empty = new ServiceProcess(schema, database);
        var patch = Path.Combine(Path.GetTempPath(), $"{schema}.sql");
        try
        {
            var write = await empty.RunCommandAsync("Production", "db-patch", patch, "-d", "marten://store/");
            write.ExitCode.ShouldBe(0, write.Output);
            (await File.ReadAllTextAsync(patch, Cancel)).ShouldContain($"CREATE VIEW {schema}.usage_events");
            File.Exists(patch.Replace(".sql", ".drop.sql")).ShouldBeTrue();

            var apply = await empty.RunCommandAsync("Production", "db-apply");
            apply.ExitCode.ShouldBe(0, apply.Output);
            var assert = await empty.RunCommandAsync("Production", "db-assert");
            assert.ExitCode.ShouldBe(0, assert.Output);

            await using var connection = await OpenAsync($"{database};Search Path={schema}");
            foreach (var view in new[] { "organisations", "subscription_tiers", "usage_events" })
                (await ScalarAsync(connection, $"SELECT COUNT(*) FROM {view}")).ShouldBe(0L);
        }
        finally
        {
            File.Delete(patch);
            File.Delete(patch.Replace(".sql", ".drop.sql"));
            await using var connection = await OpenAsync(database);
            await new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection).ExecuteNonQueryAsync(Cancel);
        }
    }

    [Fact]
    public async Task db_apply_fills_the_history_tables_from_the_events_a_database_already_holds()
    {
        await RegisterAsync("acme", "starter");
        var midnight = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "API_CALLS", quantity = 3, occurredAt = midnight.AddTicks(-3), properties = new { model = "large" } }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
        });
        await TrackAsync("acme", "API_CALLS", 2);
        await TrackAsync("acme", "TEAM_MEMBERS", 2);
        var range = $"feature=API_CALLS&from={Uri.EscapeDataString(midnight.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(midnight.AddDays(1).ToString("O"))}";
        var events = await ReadAsync($"/api/v1/usage/acme/events?{range}");
        var history = await ReadAsync($"/api/v1/usage/acme/history?granularity=hour&groupBy=model&{range}");
        await using (var connection = await OpenAsync(AppFixture.ConnectionString))
            await new NpgsqlCommand($"DROP TABLE {AppFixture.Schema}.usage_event_log, {AppFixture.Schema}.usage_hourly CASCADE", connection).ExecuteNonQueryAsync(Cancel);

        // As an upgrade meets them: events in the store, and no history tables yet.
        var apply = await service.RunCommandAsync("Production", "db-apply");

        apply.ExitCode.ShouldBe(0, apply.Output);
        (await ReadAsync($"/api/v1/usage/acme/events?{range}")).ShouldBe(events);
        (await ReadAsync($"/api/v1/usage/acme/history?granularity=hour&groupBy=model&{range}")).ShouldBe(history);
        await using var check = await OpenAsync(AppFixture.ConnectionString);
        (await ScalarAsync(check, $"SELECT COUNT(*) FROM {AppFixture.Schema}.usage_events")).ShouldBe(3L);
    }

    private async Task<string> ReadAsync(string url)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url(url);
            x.WithBearerToken(AdminToken);
        });
        return await result.ReadAsTextAsync();
    }

    [Fact]
    public async Task a_projection_rebuild_restores_counters_from_the_events()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 7);
        await using (var session = Store.LightweightSession())
        {
            var counter = await session.Query<UsageCounter>().SingleAsync(Cancel);
            counter.Used = 999;
            session.Store(counter);
            await session.SaveChangesAsync(Cancel);
        }

        var run = await service.RunCommandAsync("Production", "projections", "rebuild");

        run.ExitCode.ShouldBe(0, run.Output);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(7);
        ((string)(await CheckAsync("acme", "AI_MESSAGES"))["tier"]!).ShouldBe("free");
    }

    [Fact]
    public async Task seed_twice_changes_nothing_the_second_time()
    {
        await using (var session = Store.LightweightSession())
        {
            session.Delete<SubscriptionTier>("starter");
            await session.SaveChangesAsync(Cancel);
        }

        var first = await service.RunCommandAsync("Production", "seed");
        var second = await service.RunCommandAsync("Production", "seed");

        first.ExitCode.ShouldBe(0, first.Output);
        first.Output.ShouldContain("1 tier(s) and feature(s) added or restored");
        second.ExitCode.ShouldBe(0, second.Output);
        second.Output.ShouldContain("nothing changed");
        await using var query = Store.QuerySession();
        (await query.LoadAsync<SubscriptionTier>("starter", Cancel))!.PriceMonthly.ShouldBe(29m);
    }

    [Fact]
    public async Task assign_tier_by_slug_changes_the_tier_and_records_a_tier_assigned_event()
    {
        await RegisterAsync("acme-1");

        var run = await service.RunCommandAsync("Production", "assign-tier", "--slug", "acme-1", "--tier", "pro", "--reason", "Migrated from the old system");

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("acme-1: free -> pro");
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme-1", Cancel))!.Tier.ShouldBe("pro");
        var assigned = (await session.Events.FetchStreamAsync("acme-1", token: Cancel)).Select(e => e.Data).OfType<TierAssigned>().ShouldHaveSingleItem();
        assigned.PreviousTier.ShouldBe("free");
        assigned.Actor.ShouldBe("assign-tier");
        assigned.Reason.ShouldBe("Migrated from the old system");
    }

    [Fact]
    public async Task assign_tier_for_all_on_the_default_tier_moves_only_those()
    {
        await RegisterAsync("a");
        await RegisterAsync("b");
        await RegisterAsync("c", "business");

        var run = await service.RunCommandAsync("Production", "assign-tier", "--all-on-default", "--tier", "starter");

        run.ExitCode.ShouldBe(0, run.Output);
        await using var session = Store.QuerySession();
        (await session.Query<Organisation>().OrderBy(o => o.Id).Select(o => o.Tier).ToListAsync(Cancel)).ShouldBe(["starter", "starter", "business"]);
    }

    [Fact]
    public async Task assign_tier_for_an_unknown_slug_or_tier_fails_and_changes_nothing()
    {
        await RegisterAsync("acme");

        (await service.RunCommandAsync("Production", "assign-tier", "--slug", "nobody", "--tier", "pro")).ExitCode.ShouldNotBe(0);
        var unknownTier = await service.RunCommandAsync("Production", "assign-tier", "--org", "acme", "--tier", "platinum");

        unknownTier.ExitCode.ShouldNotBe(0);
        unknownTier.Output.ShouldContain("'platinum' is not a tier");
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Organisation>("acme", Cancel))!.Tier.ShouldBe("free");
    }

    [Fact]
    public async Task stats_prints_organisations_by_tier_and_recent_events()
    {
        await RegisterAsync("a");
        await RegisterAsync("b", "pro");
        await TrackAsync("a", "AI_MESSAGES", 2);
        await TrackAsync("b", "AI_MESSAGES", 1);

        var run = await service.RunCommandAsync("Production", "stats");

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("Organisations: 2");
        run.Output.ShouldContain("Usage events in the last hour: 2; in the last 24 hours: 2");
    }

    [Fact]
    public async Task token_mints_a_token_the_service_accepts()
    {
        await RegisterAsync("acme");

        // Development with no key of its own: the development key, which the test host uses too.
        var run = await service.RunCommandAsync(
            "Development", new Dictionary<string, string> { ["Auth__SigningKey"] = "" }, "token", "--org", "acme", "--scopes", "usage:read");

        run.ExitCode.ShouldBe(0, run.Output);
        var token = run.Output.Trim().Split('\n').Last(line => line.StartsWith("eyJ", StringComparison.Ordinal)).Trim();
        await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/acme/limits");
            x.WithBearerToken(token);
        });
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        return connection;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
