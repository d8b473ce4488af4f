using System.Text.Json.Nodes;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.CheckingLimits;

/// <summary>
/// Each instance holds the catalog in memory (<see cref="CatalogCache"/>); a change made through another instance, or
/// by an operator's SQL, is seen by the very next check here: the check reads the catalog's version with its counter.
/// </summary>
public sealed class when_the_catalog_changes_on_another_instance(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private IAlbaHost other = null!;

    async ValueTask IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        other = await AppFixture.StartHostAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await other.DisposeAsync();

    [Fact]
    public async Task a_check_on_one_instance_sees_every_change_made_through_the_other_at_once()
    {
        await RegisterAsync("cached", tier: "starter");
        (await CheckOnOtherAsync("AI_MESSAGES"))["limit"]!.GetValue<long>().ShouldBe(1_000);
        // Held now: the next checks find the organisation in memory and only the version tells them it changed.
        (await CheckOnOtherAsync("AI_MESSAGES"))["tier"]!.GetValue<string>().ShouldBe("starter");

        await Host.Scenario(x =>
        {
            x.Put.Json(new { tier = "pro" }).ToUrl("/api/v1/usage/cached/tier");
            x.WithBearerToken(AdminToken);
        });
        var afterTier = await CheckOnOtherAsync("AI_MESSAGES");
        afterTier["tier"]!.GetValue<string>().ShouldBe("pro");
        afterTier["limit"]!.GetValue<long>().ShouldBe(5_000);

        await GrantOverrideAsync("cached", "AI_MESSAGES", new { limit = 7 });
        var afterOverride = await CheckOnOtherAsync("AI_MESSAGES", quantity: 8);
        afterOverride["limit"]!.GetValue<long>().ShouldBe(7);
        afterOverride["source"]!.GetValue<string>().ShouldBe("override");
        afterOverride["allowed"]!.GetValue<bool>().ShouldBeFalse();

        await Host.Scenario(x =>
        {
            x.Delete.Url("/api/v1/organisations/cached/overrides/AI_MESSAGES");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(204);
        });
        await Host.Scenario(x =>
        {
            x.Put.Json(new { name = "Pro", priceMonthly = 79, limits = new Dictionary<string, object> { ["AI_MESSAGES"] = 6_000, ["API_ACCESS"] = true } })
                .ToUrl("/api/v1/tiers/pro");
            x.WithBearerToken(AdminToken);
        });
        var afterUpsert = await CheckOnOtherAsync("AI_MESSAGES");
        afterUpsert["limit"]!.GetValue<long>().ShouldBe(6_000);
        afterUpsert["source"]!.GetValue<string>().ShouldBe("tier");
        // The limits page reads through the same cache.
        var limits = await BodyOf(await other.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/cached/limits");
            x.WithBearerToken(TokenFor("cached"));
        }));
        limits["features"]!.AsArray().Single(f => f!["feature"]!.GetValue<string>() == "AI_MESSAGES")!["limit"]!.GetValue<long>().ShouldBe(6_000);

        // What no slice writes is seen too: the version moves by triggers on the tables, whoever writes them.
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            await connection.OpenAsync(Cancel);
            await using var sql = new NpgsqlCommand(
                $"UPDATE {AppFixture.Schema}.mt_doc_organisation SET data = jsonb_set(data, '{{tier}}', '\"business\"') WHERE id = 'cached'", connection);
            (await sql.ExecuteNonQueryAsync(Cancel)).ShouldBe(1);
        }
        (await CheckOnOtherAsync("AI_MESSAGES"))["limit"]!.GetValue<long>().ShouldBe(25_000);
    }

    [Fact]
    public async Task an_organisation_registered_elsewhere_after_a_miss_is_found_at_once()
    {
        var missing = await other.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/late/check/AI_MESSAGES");
            x.WithBearerToken(TokenFor("late"));
            x.StatusCodeShouldBe(404);
        });
        (await BodyOf(missing))["detail"]!.GetValue<string>().ShouldBe("Organisation 'late' is not registered.");

        await RegisterAsync("late", tier: "pro");
        await TrackAsync("late", "AI_MESSAGES", 3);
        var found = await CheckOnOtherAsync("AI_MESSAGES", orgId: "late");
        found["limit"]!.GetValue<long>().ShouldBe(5_000);
        found["used"]!.GetValue<long>().ShouldBe(3);
    }

    /// <summary>
    /// The checks' connections skip Npgsql's reset, so they must come back to the pool as they left it. After
    /// checks and limits pages of every kind (a counted feature, a flag, an unknown feature), a connection taken from that pool — the same
    /// backends, the pool being full of them — holds no session setting, lock, listener, prepared statement of SQL,
    /// temporary table or cursor, and none was left in a transaction.
    /// </summary>
    [Fact]
    public async Task the_checks_connections_come_back_without_session_state()
    {
        await RegisterAsync("clean", tier: "pro");
        var reads = other.Services.GetRequiredKeyedService<NpgsqlDataSource>(CatalogCache.ReadsKeyOf(Shards.Main));
        var answers = await SendConcurrentlyAsync([other], "clean", 60, i => (HttpMethod.Get, (i % 4) switch
        {
            0 => "/api/v1/usage/clean/check/AI_MESSAGES",
            1 => "/api/v1/usage/clean/check/API_ACCESS",
            2 => "/api/v1/usage/clean/limits",
            _ => "/api/v1/usage/clean/check/NOT_A_FEATURE",
        }, null));
        answers.Select(a => (int)a.Status).Order().Distinct().ShouldBe([200, 400]);

        new NpgsqlConnectionStringBuilder(reads.ConnectionString).NoResetOnClose.ShouldBeTrue();
        var pool = new NpgsqlConnectionStringBuilder(reads.ConnectionString).MaxPoolSize;
        var servedChecks = await BackendsLastRunningAsync("usage_catalog_version v LEFT JOIN");
        // Idle, not "idle in transaction": no read leaves a transaction open.
        servedChecks.Values.ShouldAllBe(state => state == "idle");
        var backends = new HashSet<int>();
        var connections = new List<NpgsqlConnection>();
        try
        {
            // Every connection of the pool at once, so each one the checks used is among them.
            for (var i = 0; i < pool; i++)
            {
                var connection = await reads.OpenConnectionAsync(Cancel);
                connections.Add(connection);
                await using var state = new NpgsqlCommand("""
                    SELECT pg_backend_pid(),
                           (SELECT count(*) FROM pg_settings WHERE source = 'session'),
                           (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'),
                           (SELECT count(*) FROM pg_listening_channels()),
                           (SELECT count(*) FROM pg_prepared_statements WHERE from_sql),
                           (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
                           (SELECT count(*) FROM pg_cursors WHERE name <> '')
                    """, connection);
                await using var reader = await state.ExecuteReaderAsync(Cancel);
                await reader.ReadAsync(Cancel);
                backends.Add(reader.GetInt32(0));
                for (var column = 1; column <= 6; column++)
                    reader.GetInt64(column).ShouldBe(0, $"column {column} of backend {reader.GetInt32(0)}");
            }
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }

        backends.Intersect(servedChecks.Keys).ShouldNotBeEmpty("none of the pool's connections had served a check");
    }

    /// <summary>The backends whose last statement contains <paramref name="text"/>, with their state (what a connection ran last, before it went back to its pool).</summary>
    private static async Task<Dictionary<int, string>> BackendsLastRunningAsync(string text)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var select = new NpgsqlCommand("SELECT pid, state FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", connection);
        select.Parameters.Add(new NpgsqlParameter { Value = text });
        await using var reader = await select.ExecuteReaderAsync(Cancel);
        var pids = new Dictionary<int, string>();
        while (await reader.ReadAsync(Cancel))
            pids[reader.GetInt32(0)] = reader.GetString(1);
        return pids;
    }

    private async Task<JsonObject> CheckOnOtherAsync(string feature, long quantity = 1, string orgId = "cached") =>
        await BodyOf(await other.Scenario(x =>
        {
            x.Get.Url($"/api/v1/usage/{orgId}/check/{feature}?quantity={quantity}");
            x.WithBearerToken(TokenFor(orgId));
        }));
}
