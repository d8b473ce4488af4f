using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Scaling;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Operations;

/// <summary>
/// The service with two more databases than the main one (<c>Database:Shards</c>, docs/scaling.md): each gets the
/// whole schema, Wolverine keeps its nodes in the main one, and the operators' commands see every database.
/// </summary>
[Collection(nameof(ShardDatabases))]
public sealed class when_shards_are_configured
{
    private const string Schema = "usage_slices_shards";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static IReadOnlyDictionary<string, string> Databases => ShardDatabases.Databases;

    private static IReadOnlyDictionary<string, string> ShardSettings => ShardDatabases.Settings;

    [Fact]
    public async Task every_database_gets_the_schema_wolverine_keeps_its_nodes_in_the_main_one_and_the_commands_see_them_all()
    {
        await using var service = new ServiceProcess(Schema, settings: ShardSettings);
        await service.StartAsync(Cancel);

        foreach (var (name, connectionString) in Databases)
        {
            var tables = await TablesAsync(connectionString);
            foreach (var table in new[] { "mt_doc_organisation", "mt_events", "mt_streams", "usage_event_log", "usage_hourly", "usage_catalog_version", "wolverine_incoming_envelopes", "wolverine_outgoing_envelopes" })
                tables.ShouldContain(table, $"{name} lacks {table}");
            tables.Contains("wolverine_nodes").ShouldBe(name == "main", $"{name}: Wolverine's nodes belong to the main database only");
        }

        // An organisation registered is in one database, the one its placement in the main database names.
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", service.Tokens.Mint("shards-test", null, [Scopes.Admin], TimeSpan.FromMinutes(5)));
        var orgId = $"shards-{Guid.NewGuid():N}"[..24];
        using (var register = await client.PutAsJsonAsync($"/api/v1/organisations/{orgId}", new { slug = orgId, name = "Shards", tier = "starter" }, Cancel))
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var track = await client.PostAsJsonAsync($"/api/v1/usage/{orgId}/track", new { feature = "API_CALLS", quantity = 2 }, Cancel))
            track.StatusCode.ShouldBe(HttpStatusCode.OK);
        var check = await client.GetFromJsonAsync<JsonElement>($"/api/v1/usage/{orgId}/check/API_CALLS", Cancel);
        check.GetProperty("used").GetInt64().ShouldBe(2);
        var placed = await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = '{orgId}'");
        placed.ShouldBe(1L);
        foreach (var (name, connectionString) in Databases)
        {
            (await ScalarAsync(connectionString, $"SELECT count(*) FROM {Schema}.mt_doc_organisation WHERE id = '{orgId}'"))
                .ShouldBe(await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = '{orgId}' AND data->>'shard' = '{name}'"));
        }

        var shards = await service.RunCommandAsync("Production", "shards");
        shards.ExitCode.ShouldBe(0, shards.Output);
        foreach (var (name, connectionString) in Databases)
        {
            var organisations = await ScalarAsync(connectionString, $"SELECT count(*) FROM {Schema}.mt_doc_organisation");
            var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
            shards.Output.Split('\n').ShouldContain(line => line.StartsWith(name + " ") && line.Contains($" {organisations}  {database}@"), shards.Output);
        }

        var assert = await service.RunCommandAsync("Production", "db-assert");
        assert.ExitCode.ShouldBe(0, assert.Output);
    }

    [Fact]
    public async Task the_shards_command_names_a_database_that_does_not_answer_and_fails()
    {
        await using var service = new ServiceProcess(Schema, settings: ShardSettings);
        var settings = new Dictionary<string, string>
        {
            ["Database__Shards__gone"] = $"Host=127.0.0.1;Port={ClosedPort()};Database=usage_slices_gone;Username=usage_slices;Password=usage_slices;Timeout=2",
        };

        var shards = await service.RunCommandAsync("Production", settings, "shards");

        shards.ExitCode.ShouldNotBe(0, shards.Output);
        shards.Output.Split('\n').ShouldContain(line => line.StartsWith("gone ") && line.Contains("not answering"), shards.Output);
        shards.Output.Split('\n').ShouldContain(line => line.StartsWith("shard2 ") && !line.Contains("not answering"), shards.Output);
    }

    [Fact]
    public async Task an_organisation_registered_before_shards_were_configured_stays_in_the_main_database_and_is_served_there()
    {
        // Registered by the one-database service over the main database alone.
        var orgId = $"before-{Guid.NewGuid():N}"[..24];
        await using (var alone = new ServiceProcess(Schema, Databases["main"] + ";Maximum Pool Size=6"))
        {
            await alone.StartAsync(Cancel);
            using var client = ClientOf(alone);
            using var register = await client.PutAsJsonAsync($"/api/v1/organisations/{orgId}", new { slug = orgId, name = "Before", tier = "pro" }, Cancel);
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
            using var track = await client.PostAsJsonAsync($"/api/v1/usage/{orgId}/track", new { feature = "API_CALLS", quantity = 2 }, Cancel);
            track.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await using var sharded = new ServiceProcess(Schema, settings: ShardSettings);
        await sharded.StartAsync(Cancel);
        using var shardedClient = ClientOf(sharded);
        (await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = '{orgId}'")).ShouldBe(0L);
        for (var i = 0; i < 2; i++)
        {
            using var track = await shardedClient.PostAsJsonAsync($"/api/v1/usage/{orgId}/track", new { feature = "API_CALLS", quantity = 3 }, Cancel);
            track.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var check = await shardedClient.GetFromJsonAsync<JsonElement>($"/api/v1/usage/{orgId}/check/API_CALLS", Cancel);
        check.GetProperty("used").GetInt64().ShouldBe(8);

        // Registered again, it is placed where it is: in the main database.
        using (var again = await shardedClient.PutAsJsonAsync($"/api/v1/organisations/{orgId}", new { slug = orgId, name = "Before, again" }, Cancel))
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = '{orgId}' AND data->>'shard' = 'main'")).ShouldBe(1L);
        foreach (var shard in new[] { "shard2", "shard3" })
            (await ScalarAsync(Databases[shard], $"SELECT count(*) FROM {Schema}.mt_doc_organisation WHERE id = '{orgId}'")).ShouldBe(0L);
    }

    private static HttpClient ClientOf(ServiceProcess service)
    {
        var client = new HttpClient { BaseAddress = service.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", service.Tokens.Mint("shards-test", null, [Scopes.Admin], TimeSpan.FromMinutes(5)));
        return client;
    }

    [Fact]
    public async Task add_shard_prepares_a_new_database_which_new_organisations_then_fill_first()
    {
        var fourth = ShardDatabases.Named("usage_slices_tests_shard4");
        await ExecuteAsync(fourth, $"DROP SCHEMA IF EXISTS {Schema} CASCADE");
        await using var service = new ServiceProcess(Schema, settings: ShardSettings);

        var added = await service.RunCommandAsync("Production", "add-shard", "--name", "shard4", "--connection", fourth);

        added.ExitCode.ShouldBe(0, added.Output);
        added.Output.ShouldContain($"  Database__Shards__shard4={fourth}");
        var tables = await TablesAsync(fourth);
        foreach (var table in new[] { "mt_doc_organisation", "mt_events", "usage_event_log", "usage_catalog_version", "organisations", "usage_events" })
            tables.ShouldContain(table);

        // Configured as the line says, it takes the next new organisation, since it has the fewest: none, where each of
        // the others has one at least (earlier runs' placements in the new shard are forgotten with its schema).
        var withFourth = new Dictionary<string, string>(ShardSettings) { ["Database__Shards__shard4"] = fourth + ";Maximum Pool Size=6" };
        await using var grown = new ServiceProcess(Schema, settings: withFourth);
        await grown.StartAsync(Cancel);
        await ExecuteAsync(Databases["main"], $"DELETE FROM {Schema}.mt_doc_organisationplacement WHERE data->>'shard' = 'shard4'");
        foreach (var shard in Databases.Keys)
        {
            var place = await grown.RunCommandAsync("Production", "place-organisation", "--org", $"held-{Guid.NewGuid():N}"[..20], "--shard", shard);
            place.ExitCode.ShouldBe(0, place.Output);
        }
        using var client = new HttpClient { BaseAddress = grown.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", grown.Tokens.Mint("shards-test", null, [Scopes.Admin], TimeSpan.FromMinutes(5)));
        var orgId = $"fourth-{Guid.NewGuid():N}"[..24];
        using (var register = await client.PutAsJsonAsync($"/api/v1/organisations/{orgId}", new { slug = orgId, name = "Fourth", tier = "pro" }, Cancel))
            register.StatusCode.ShouldBe(HttpStatusCode.Created, await register.Content.ReadAsStringAsync(Cancel));
        (await ScalarAsync(fourth, $"SELECT count(*) FROM {Schema}.mt_doc_organisation WHERE id = '{orgId}'")).ShouldBe(1L);
        // The catalog reached it at start-up: the organisation's tier is there.
        var limits = await client.GetFromJsonAsync<JsonElement>($"/api/v1/usage/{orgId}/limits", Cancel);
        limits.GetProperty("tier").GetProperty("code").GetString().ShouldBe("pro");
    }

    [Theory]
    [InlineData("main", "--name: a shard's name is 1 to 32 lower-case letters")]
    [InlineData("Shard_4", "--name: a shard's name is 1 to 32 lower-case letters")]
    [InlineData("shard2", "A shard named 'shard2' is configured already.")]
    public async Task add_shard_refuses_a_bad_or_taken_name_and_changes_nothing(string name, string refusal)
    {
        var fourth = ShardDatabases.Named("usage_slices_tests_shard4");
        var schema = $"usage_slices_refused_{Guid.NewGuid():N}"[..32];
        await using var service = new ServiceProcess(schema, settings: ShardSettings);

        var added = await service.RunCommandAsync("Production", "add-shard", "--name", name, "--connection", fourth);

        added.ExitCode.ShouldNotBe(0, added.Output);
        added.Output.ShouldContain(refusal);
        (await TablesAsync(fourth, schema)).ShouldBeEmpty();
    }

    [Fact]
    public async Task add_shard_refuses_a_database_that_is_a_shard_already_and_names_one_that_does_not_answer()
    {
        await using var service = new ServiceProcess(Schema, settings: ShardSettings);

        var again = await service.RunCommandAsync("Production", "add-shard", "--name", "shard9", "--connection", Databases["shard3"]);
        again.ExitCode.ShouldNotBe(0, again.Output);
        again.Output.ShouldContain("That database is shard 'shard3' already.");

        var gone = await service.RunCommandAsync(
            "Production", "add-shard", "--name", "gone", "--connection", $"Host=127.0.0.1;Port={ClosedPort()};Database=usage_slices_gone;Username=usage_slices;Password=usage_slices;Timeout=2");
        gone.ExitCode.ShouldNotBe(0, gone.Output);
        gone.Output.ShouldContain("The database does not answer:");
    }

    [Theory]
    [InlineData("Database__Shards__main")]
    [InlineData("Database__Shards__Shard_2")]
    public async Task a_shard_named_main_or_not_in_lower_case_letters_digits_and_dashes_stops_the_service_at_start(string setting)
    {
        await using var service = new ServiceProcess(Schema, settings: ShardSettings);

        var shards = await service.RunCommandAsync("Production", new Dictionary<string, string> { [setting] = Databases["shard2"] }, "shards");

        shards.ExitCode.ShouldNotBe(0, shards.Output);
        shards.Output.ShouldContain("a shard's name is 1 to 32 lower-case letters, digits or '-', and not \"main\"");
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<HashSet<string>> TablesAsync(string connectionString, string schema = Schema)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", connection) { Parameters = { new() { Value = schema } } };
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var tables = new HashSet<string>();
        while (await reader.ReadAsync(Cancel))
            tables.Add(reader.GetString(0));
        return tables;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync(Cancel);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        return (long)(await new NpgsqlCommand(sql, connection).ExecuteScalarAsync(Cancel))!;
    }
}
