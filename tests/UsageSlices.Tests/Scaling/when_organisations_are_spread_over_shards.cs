using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Scaling;

/// <summary>The tests that run services over the three shard databases, one class at a time (they share the databases).</summary>
[CollectionDefinition(nameof(ShardDatabases))]
public sealed class ShardDatabases
{
    public static string Named(string database) =>
        new NpgsqlConnectionStringBuilder(AppFixture.ConnectionString) { Database = database }.ConnectionString;

    /// <summary>
    /// Databases of their own: each database's search_path names the schema of the service that last migrated it (the
    /// runbook views), and db-assert would see the other tests' services move it.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Databases = new Dictionary<string, string>
    {
        ["main"] = Named("usage_slices_tests_shard1"),
        ["shard2"] = Named("usage_slices_tests_shard2"),
        ["shard3"] = Named("usage_slices_tests_shard3"),
    };

    /// <summary>Three databases of pools of six: each instance opens at most about 3 × 6 connections.</summary>
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["ConnectionStrings__Postgres"] = Databases["main"] + ";Maximum Pool Size=6",
        ["Database__Shards__shard2"] = Databases["shard2"] + ";Maximum Pool Size=6",
        ["Database__Shards__shard3"] = Databases["shard3"] + ";Maximum Pool Size=6",
    };

    public static async Task<long> ScalarAsync(string shard, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(Databases[shard]);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }
}

/// <summary>Two instances of the service over three databases, on a schema made afresh for this class.</summary>
public sealed class TwoInstancesOverThreeShards : IAsyncLifetime
{
    public const string Schema = "usage_slices_spread";

    /// <summary>The shards' settings, and webhooks allowed to the tests' receiver on the loopback address.</summary>
    private static readonly IReadOnlyDictionary<string, string> Settings =
        new Dictionary<string, string>(ShardDatabases.Settings) { ["Webhooks__AllowPrivateNetworks"] = "true" };

    public ServiceProcess A { get; } = new(Schema, settings: Settings);

    public ServiceProcess B { get; } = new(Schema, settings: Settings);

    public HttpClient ClientOfA { get; private set; } = null!;

    public HttpClient ClientOfB { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        // A schema made afresh, so that the placements this class counts are its own.
        foreach (var shard in ShardDatabases.Databases.Keys)
            await ShardDatabases.ScalarAsync(shard, $"DROP SCHEMA IF EXISTS {Schema} CASCADE; SELECT 1");
        var cancel = TestContext.Current.CancellationToken;
        await A.StartAsync(cancel);
        await B.StartAsync(cancel);
        ClientOfA = ClientOf(A);
        ClientOfB = ClientOf(B);
    }

    private static HttpClient ClientOf(ServiceProcess service)
    {
        var client = new HttpClient { BaseAddress = new Uri(service.BaseAddress, "/api/v1/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", service.Tokens.Mint("spread-test", null, [Scopes.Admin], TimeSpan.FromMinutes(30)));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        ClientOfA.Dispose();
        ClientOfB.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}

/// <summary>
/// Organisations spread over three databases (docs/scaling.md): each is placed in one, found there by every instance,
/// and everything that concerns it — counts, admission, idempotency, reservations — is decided in that database alone.
/// </summary>
[Collection(nameof(ShardDatabases))]
public sealed class when_organisations_are_spread_over_shards(TwoInstancesOverThreeShards services) : IClassFixture<TwoInstancesOverThreeShards>
{
    private const string Schema = TwoInstancesOverThreeShards.Schema;

    private static readonly string[] ShardNames = ["main", "shard2", "shard3"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string NewOrgId() => $"sp-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task each_registration_goes_to_the_emptiest_shard_and_is_found_there_by_both_instances()
    {
        for (var i = 0; i < 6; i++)
        {
            var counts = new Dictionary<string, long>();
            foreach (var shard in ShardNames)
                counts[shard] = await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE data->>'shard' = $1", shard);
            var emptiest = ShardNames.First(shard => counts[shard] == counts.Values.Min());

            var orgId = NewOrgId();
            using (var register = await (i % 2 == 0 ? services.ClientOfA : services.ClientOfB).PutAsJsonAsync(
                $"organisations/{orgId}", new { slug = orgId, name = "Spread", tier = "starter" }, Cancel))
                register.StatusCode.ShouldBe(HttpStatusCode.Created, await register.Content.ReadAsStringAsync(Cancel));

            (await ShardOfAsync(orgId)).ShouldBe(emptiest);
            foreach (var shard in ShardNames)
                (await OrganisationsInAsync(shard, orgId)).ShouldBe(shard == emptiest ? 1 : 0, $"{orgId} in {shard}");

            // Found by the other instance too, which never saw it registered.
            var organisation = await (i % 2 == 0 ? services.ClientOfB : services.ClientOfA).GetFromJsonAsync<JsonElement>($"organisations/{orgId}", Cancel);
            organisation.GetProperty("tier").GetString().ShouldBe("starter");
        }
    }

    [Fact]
    public async Task a_slug_is_unique_across_shards_and_a_refused_registration_changes_nothing()
    {
        var first = await PlacedAsync("shard2", "starter");
        var second = await PlacedAsync("shard3", "starter");

        // A new organisation with the slug of one in another shard.
        var newcomer = NewOrgId();
        using (var clash = await services.ClientOfB.PutAsJsonAsync($"organisations/{newcomer}", new { slug = first, name = "Clash" }, Cancel))
        {
            clash.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await clash.Content.ReadAsStringAsync(Cancel)).ShouldContain($"The slug '{first}' belongs to organisation '{first}'.");
        }
        (await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = $1", newcomer)).ShouldBe(0);
        foreach (var shard in ShardNames)
            (await OrganisationsInAsync(shard, newcomer)).ShouldBe(0);

        // An organisation renamed to the slug of one in another shard.
        using (var rename = await services.ClientOfA.PutAsJsonAsync($"organisations/{second}", new { slug = first, name = "Renamed" }, Cancel))
            rename.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await SlugInAsync("shard3", second)).ShouldBe(second);
        (await PlacedSlugAsync(second)).ShouldBe(second);

        // A registration its shard refuses (an unknown tier) gives back the slug it claimed.
        using (var unknownTier = await services.ClientOfA.PutAsJsonAsync($"organisations/{second}", new { slug = "sp-free-again", name = "Second", tier = "nope" }, Cancel))
            unknownTier.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await PlacedSlugAsync(second)).ShouldBe(second);
        (await SlugInAsync("shard3", second)).ShouldBe(second);

        // A rename to a free slug is recorded in the shard and in the placement.
        var renamed = $"{second}-b";
        using (var rename = await services.ClientOfB.PutAsJsonAsync($"organisations/{second}", new { slug = renamed, name = "Renamed" }, Cancel))
            rename.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SlugInAsync("shard3", second)).ShouldBe(renamed);
        (await PlacedSlugAsync(second)).ShouldBe(renamed);
    }

    [Fact]
    public async Task an_operator_places_an_organisation_before_it_is_registered_and_cannot_place_it_twice()
    {
        var orgId = NewOrgId();
        var place = await services.A.RunCommandAsync("Production", "place-organisation", "--org", orgId, "--shard", "shard3");
        place.ExitCode.ShouldBe(0, place.Output);
        place.Output.ShouldContain($"{orgId}: placed in shard shard3");

        using (var register = await services.ClientOfB.PutAsJsonAsync($"organisations/{orgId}", new { slug = orgId, name = "Placed" }, Cancel))
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await OrganisationsInAsync("shard3", orgId)).ShouldBe(1);
        (await OrganisationsInAsync("main", orgId)).ShouldBe(0);

        var again = await services.A.RunCommandAsync("Production", "place-organisation", "--org", orgId, "--shard", "shard2");
        again.ExitCode.ShouldNotBe(0, again.Output);
        again.Output.ShouldContain($"Organisation '{orgId}' is placed in shard 'shard3' already");

        var unknown = await services.A.RunCommandAsync("Production", "place-organisation", "--org", NewOrgId(), "--shard", "shard9");
        unknown.ExitCode.ShouldNotBe(0, unknown.Output);
        unknown.Output.ShouldContain("'shard9' is not a configured shard (main, shard2, shard3)");

        var invalid = await services.A.RunCommandAsync("Production", "place-organisation", "--org", "bad id", "--shard", "shard2");
        invalid.ExitCode.ShouldNotBe(0, invalid.Output);
        invalid.Output.ShouldContain("An organisation id is 1-64 characters");
        (await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_organisationplacement WHERE id = 'bad id'")).ShouldBe(0);
    }

    [Fact]
    public async Task in_every_shard_two_instances_admit_exactly_the_limit_and_count_each_key_once()
    {
        foreach (var shard in ShardNames)
        {
            var orgId = await PlacedAsync(shard, "free");

            // Free allows 50 AI messages a month: 80 enforce-mode calls at once, half through each instance.
            var calls = await Task.WhenAll(Enumerable.Range(0, 80).Select(async i =>
            {
                using var response = await (i % 2 == 0 ? services.ClientOfA : services.ClientOfB).PostAsJsonAsync(
                    $"usage/{orgId}/track", new { feature = "AI_MESSAGES", quantity = 1, enforce = true }, Cancel);
                return response.StatusCode;
            }));
            calls.Count(status => status == HttpStatusCode.OK).ShouldBe(50, shard);
            calls.Count(status => status == HttpStatusCode.PaymentRequired).ShouldBe(30, shard);

            // 40 keys, each sent through both instances at once: 40 counted.
            await Task.WhenAll(Enumerable.Range(0, 80).Select(async i =>
            {
                using var response = await (i % 2 == 0 ? services.ClientOfA : services.ClientOfB).PostAsJsonAsync(
                    $"usage/{orgId}/track", new { feature = "DOCUMENT_SCANS", quantity = 1, idempotencyKey = $"scan-{i / 2}" }, Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }));

            var limits = await services.ClientOfB.GetFromJsonAsync<JsonElement>($"usage/{orgId}/limits", Cancel);
            UsedOf(limits, "AI_MESSAGES").ShouldBe(50);
            UsedOf(limits, "DOCUMENT_SCANS").ShouldBe(40);
            foreach (var other in ShardNames)
            {
                (await ShardDatabases.ScalarAsync(other, $"SELECT coalesce(sum(quantity), 0) FROM {Schema}.usage_event_log WHERE org_id = $1", orgId))
                    .ShouldBe(other == shard ? 90 : 0, $"{orgId}'s events in {other}");
            }
        }
    }

    [Fact]
    public async Task a_reservation_in_a_shard_expires_there()
    {
        var orgId = await PlacedAsync("shard3", "starter");
        using (var reserve = await services.ClientOfA.PostAsJsonAsync(
            $"usage/{orgId}/reservations", new { feature = "AI_MESSAGES", quantity = 30, expiresInSeconds = 1 }, Cancel))
            reserve.StatusCode.ShouldBe(HttpStatusCode.Created, await reserve.Content.ReadAsStringAsync(Cancel));
        (await ShardDatabases.ScalarAsync("shard3", $"SELECT count(*) FROM {Schema}.mt_doc_reservation WHERE data->>'orgId' = $1 AND data->>'status' = 'Active'", orgId)).ShouldBe(1);

        // Released by the shard's own durability agent, which the leader assigns some seconds after a start.
        await Eventually.WaitUntilAsync(
            async () => ReservedOf(await services.ClientOfB.GetFromJsonAsync<JsonElement>($"usage/{orgId}/limits", Cancel), "AI_MESSAGES") == 0,
            "The reservation in shard3 never expired.", TimeSpan.FromSeconds(60));
        (await ShardDatabases.ScalarAsync("shard3", $"SELECT count(*) FROM {Schema}.mt_doc_reservation WHERE data->>'orgId' = $1 AND data->>'status' = 'Expired'", orgId)).ShouldBe(1);
        (await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_reservation WHERE data->>'orgId' = $1", orgId)).ShouldBe(0);
    }

    [Fact]
    public async Task a_tier_changed_through_one_instance_reaches_every_shard()
    {
        var tier = $"spread-{Guid.NewGuid():N}"[..16];
        using (var create = await services.ClientOfA.PutAsJsonAsync($"tiers/{tier}", TierBody(7), Cancel))
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
        await TierEverywhereAsync(tier, 7);

        var organisations = new List<string>();
        foreach (var shard in ShardNames)
            organisations.Add(await PlacedAsync(shard, tier));
        foreach (var orgId in organisations)
            LimitOf(await services.ClientOfB.GetFromJsonAsync<JsonElement>($"usage/{orgId}/limits", Cancel), "AI_MESSAGES").ShouldBe(7);

        using (var change = await services.ClientOfB.PutAsJsonAsync($"tiers/{tier}", TierBody(9), Cancel))
            change.StatusCode.ShouldBe(HttpStatusCode.OK);
        await TierEverywhereAsync(tier, 9);
        foreach (var orgId in organisations)
            LimitOf(await services.ClientOfA.GetFromJsonAsync<JsonElement>($"usage/{orgId}/limits", Cancel), "AI_MESSAGES").ShouldBe(9);
    }

    [Fact]
    public async Task a_batch_spanning_shards_gives_a_result_per_event_in_order_and_counts_each_event_once()
    {
        var organisations = new List<string>();
        foreach (var shard in ShardNames)
            organisations.Add(await PlacedAsync(shard, "starter"));
        var events = Enumerable.Range(0, 9).Select(i => new
        {
            orgId = organisations[i % 3],
            feature = "INVOICES",
            quantity = i + 1,
            idempotencyKey = $"invoice-{i}",
        }).ToList();

        foreach (var (client, status) in new[] { (services.ClientOfA, "recorded"), (services.ClientOfB, "duplicate") })
        {
            using var response = await client.PostAsJsonAsync("usage/events:batch", new { events }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var results = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("results").EnumerateArray().ToList();
            results.Count.ShouldBe(9);
            for (var i = 0; i < 9; i++)
            {
                results[i].GetProperty("index").GetInt32().ShouldBe(i);
                results[i].GetProperty("status").GetString().ShouldBe(status);
                results[i].GetProperty("result").GetProperty("orgId").GetString().ShouldBe(events[i].orgId);
            }
        }

        for (var shard = 0; shard < 3; shard++)
        {
            var expected = events.Where(e => e.orgId == organisations[shard]).Sum(e => e.quantity);
            UsedOf(await services.ClientOfA.GetFromJsonAsync<JsonElement>($"usage/{organisations[shard]}/limits", Cancel), "INVOICES").ShouldBe(expected);
            (await ShardDatabases.ScalarAsync(ShardNames[shard], $"SELECT coalesce(sum(quantity), 0) FROM {Schema}.usage_event_log WHERE org_id = $1", organisations[shard]))
                .ShouldBe(expected);
        }
    }

    [Fact]
    public async Task a_threshold_crossed_in_any_shard_is_delivered_once_from_the_main_database()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var organisations = new List<string>();
        foreach (var shard in ShardNames)
        {
            var orgId = await PlacedAsync(shard, "free");
            organisations.Add(orgId);
            using var register = await services.ClientOfB.PostAsJsonAsync(
                "webhooks", new { url = receiver.Url, eventTypes = new[] { "usage.threshold.crossed" }, orgId }, Cancel);
            register.StatusCode.ShouldBe(HttpStatusCode.Created, await register.Content.ReadAsStringAsync(Cancel));
        }

        // 40 of Free's 50 AI messages: the 80% threshold, crossed once in each organisation's shard.
        foreach (var orgId in organisations)
        {
            using var track = await services.ClientOfA.PostAsJsonAsync($"usage/{orgId}/track", new { feature = "AI_MESSAGES", quantity = 40 }, Cancel);
            track.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await Eventually.WaitUntilAsync(
            async () => await ShardDatabases.ScalarAsync("main", $"SELECT count(*) FROM {Schema}.mt_doc_webhookdelivery WHERE data->>'status' = 'Delivered' AND (data->>'body')::jsonb->'data'->>'orgId' = ANY($1)", (object)organisations.ToArray()) == 3,
            "The three crossings were never all delivered.", TimeSpan.FromSeconds(60));
        foreach (var orgId in organisations)
        {
            var bodies = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement).Where(body => body.GetProperty("data").GetProperty("orgId").GetString() == orgId).ToList();
            bodies.Count.ShouldBe(1, orgId);
            bodies[0].GetProperty("data").GetProperty("threshold").GetInt32().ShouldBe(80);
        }
        foreach (var shard in ShardNames.Skip(1))
            (await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.mt_doc_webhookdelivery")).ShouldBe(0, $"deliveries are the main database's, not {shard}'s");
    }

    [Fact]
    public async Task stats_the_organisations_list_and_the_export_cover_every_shard_and_agree_with_the_sum_of_the_shards()
    {
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var organisations = new List<string>();
        foreach (var shard in ShardNames)
        {
            var orgId = await PlacedAsync(shard, "pro");
            organisations.Add(orgId);
            for (var i = 1; i <= 3; i++)
            {
                using var track = await services.ClientOfA.PostAsJsonAsync($"usage/{orgId}/track", new { feature = "API_CALLS", quantity = i }, Cancel);
                track.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }
        var to = DateTimeOffset.UtcNow.AddSeconds(1);

        // Stats: the runbook views of the three shards, added up.
        var stats = await services.ClientOfB.GetFromJsonAsync<JsonElement>("usage/stats", Cancel);
        long organisationsInShards = 0, eventsInShards = 0, proInShards = 0;
        foreach (var shard in ShardNames)
        {
            organisationsInShards += await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.organisations");
            proInShards += await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.organisations WHERE subscription_tier = 'pro'");
            eventsInShards += await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.usage_events WHERE created_at > now() - interval '1 hour'");
        }
        stats.GetProperty("organisations").GetInt64().ShouldBe(organisationsInShards);
        stats.GetProperty("organisationsByTier").GetProperty("pro").GetInt64().ShouldBe(proInShards);
        stats.GetProperty("eventsLastHour").GetInt64().ShouldBe(eventsInShards);
        proInShards.ShouldBeGreaterThanOrEqualTo(3);

        // The list, a page of five at a time: every organisation of every shard, once, in id order.
        var listed = new List<string>();
        for (string? after = null; ;)
        {
            var page = await services.ClientOfA.GetFromJsonAsync<JsonElement>($"organisations?limit=5{(after is null ? "" : $"&after={after}")}", Cancel);
            listed.AddRange(page.GetProperty("organisations").EnumerateArray().Select(o => o.GetProperty("id").GetString()!));
            if (page.GetProperty("nextAfter").GetString() is not { } next)
                break;
            after = next;
        }
        listed.Count.ShouldBe((int)organisationsInShards);
        listed.ShouldBe(listed.Order(StringComparer.Ordinal).Distinct().ToList());
        listed.ShouldContain(organisations[0]);
        listed.ShouldContain(organisations[1]);
        listed.ShouldContain(organisations[2]);

        // The export: the rows of the three shards, in the order they were recorded.
        var export = await services.ClientOfB.GetStringAsync(
            $"usage/export?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}", Cancel);
        var rows = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        long rowsInShards = 0;
        foreach (var shard in ShardNames)
            rowsInShards += await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.usage_event_log WHERE recorded_at >= $1 AND recorded_at < $2", from, to);
        rows.Count.ShouldBe((int)rowsInShards);
        foreach (var orgId in organisations)
            rows.Where(row => row.GetProperty("orgId").GetString() == orgId).Sum(row => row.GetProperty("quantity").GetInt64()).ShouldBe(6, orgId);
        var recorded = rows.Select(row => row.GetProperty("recordedAt").GetDateTimeOffset()).ToList();
        recorded.ShouldBe(recorded.Order().ToList());
    }

    /// <summary>A new organisation placed in <paramref name="shard"/> by the operators' command, then registered.</summary>
    private async Task<string> PlacedAsync(string shard, string tier)
    {
        var orgId = NewOrgId();
        var place = await services.B.RunCommandAsync("Production", "place-organisation", "--org", orgId, "--shard", shard);
        place.ExitCode.ShouldBe(0, place.Output);
        using var register = await services.ClientOfA.PutAsJsonAsync($"organisations/{orgId}", new { slug = orgId, name = "Spread", tier }, Cancel);
        register.StatusCode.ShouldBe(HttpStatusCode.Created, await register.Content.ReadAsStringAsync(Cancel));
        return orgId;
    }

    private static object TierBody(long aiMessages) => new
    {
        name = "Spread",
        priceMonthly = 5m,
        currency = "USD",
        limits = new Dictionary<string, object> { ["AI_MESSAGES"] = aiMessages, ["INVOICES"] = 100 },
    };

    /// <summary>The tier as the main database holds it, in every shard: copied after the change's commit, not in it.</summary>
    private static Task TierEverywhereAsync(string tier, long aiMessages) =>
        Eventually.WaitUntilAsync(async () =>
        {
            foreach (var shard in ShardNames)
            {
                if (await ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.mt_doc_subscriptiontier WHERE id = $1 AND (data->'limits'->>'AI_MESSAGES')::bigint = $2", tier, aiMessages) != 1)
                    return false;
            }
            return true;
        }, $"Tier {tier} never reached every shard with {aiMessages} AI messages.");

    private static async Task<string?> ShardOfAsync(string orgId)
    {
        await using var connection = new NpgsqlConnection(ShardDatabases.Databases["main"]);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand($"SELECT data->>'shard' FROM {Schema}.mt_doc_organisationplacement WHERE id = $1", connection) { Parameters = { new() { Value = orgId } } };
        return (string?)await command.ExecuteScalarAsync(Cancel);
    }

    private static async Task<string?> PlacedSlugAsync(string orgId) => await TextAsync("main", $"SELECT data->>'slug' FROM {Schema}.mt_doc_organisationplacement WHERE id = $1", orgId);

    private static async Task<string?> SlugInAsync(string shard, string orgId) => await TextAsync(shard, $"SELECT data->>'slug' FROM {Schema}.mt_doc_organisation WHERE id = $1", orgId);

    private static async Task<string?> TextAsync(string shard, string sql, string parameter)
    {
        await using var connection = new NpgsqlConnection(ShardDatabases.Databases[shard]);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = parameter } } };
        return (string?)await command.ExecuteScalarAsync(Cancel);
    }

    private static Task<long> OrganisationsInAsync(string shard, string orgId) =>
        ShardDatabases.ScalarAsync(shard, $"SELECT count(*) FROM {Schema}.mt_doc_organisation WHERE id = $1", orgId);

    private static JsonElement FeatureOf(JsonElement limits, string feature) =>
        limits.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("feature").GetString() == feature);

    private static long UsedOf(JsonElement limits, string feature) => FeatureOf(limits, feature).GetProperty("used").GetInt64();

    private static long ReservedOf(JsonElement limits, string feature) => FeatureOf(limits, feature).GetProperty("reserved").GetInt64();

    private static long LimitOf(JsonElement limits, string feature) => FeatureOf(limits, feature).GetProperty("limit").GetInt64();
}
