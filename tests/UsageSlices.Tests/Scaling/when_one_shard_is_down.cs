using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Scaling;

/// <summary>
/// One of three databases stopped while the service runs (docs/scaling.md): only the organisations it holds answer
/// 503, the others go on, the reads over every organisation say which shard is missing rather than answer short, and
/// once it is back nothing it acknowledged is lost.
/// </summary>
[Collection(nameof(ShardDatabases))]
public sealed class when_one_shard_is_down
{
    private const string Schema = "usage_slices_shard_outage";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task only_its_organisations_answer_503_the_others_go_on_and_it_comes_back_with_nothing_acknowledged_lost()
    {
        Assert.SkipUnless(ThrowawayPostgres.IsAvailable, "needs root and Debian's postgresql-common to stop a PostgreSQL cluster of its own");
        await using var outage = new ThrowawayPostgres("usage_shard_outage", 5440);
        await outage.CreateAsync();
        await using var service = new ServiceProcess(Schema, settings: new Dictionary<string, string>(ShardDatabases.Settings)
        {
            ["Database__Shards__outage"] = outage.ConnectionString + ";Maximum Pool Size=6",
        });
        await service.StartAsync(Cancel);
        using var client = new HttpClient { BaseAddress = new Uri(service.BaseAddress, "/api/v1/"), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", service.Tokens.Mint("shard-outage-test", null, [Scopes.Admin], TimeSpan.FromHours(1)));

        var organisations = new Dictionary<string, string>();
        foreach (var shard in new[] { "main", "shard2", "outage" })
        {
            var orgId = $"so-{Guid.NewGuid():N}"[..20];
            var place = await service.RunCommandAsync("Production", "place-organisation", "--org", orgId, "--shard", shard);
            place.ExitCode.ShouldBe(0, place.Output);
            using var register = await client.PutAsJsonAsync($"organisations/{orgId}", new { slug = orgId, name = "Outage", tier = "pro" }, Cancel);
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
            (await TrackAsync(client, orgId, "before")).ShouldBe(HttpStatusCode.OK);
            organisations[shard] = orgId;
        }
        var down = organisations["outage"];

        await outage.StopAsync();

        (await TrackAsync(client, down, "during")).ShouldBe(HttpStatusCode.ServiceUnavailable);
        foreach (var path in new[] { $"usage/{down}/check/API_CALLS", $"usage/{down}/limits" })
        {
            using var read = await client.GetAsync(path, Cancel);
            read.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, path);
            read.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        }

        // The other shards' organisations are served as before, and so are their events in a batch.
        foreach (var shard in new[] { "main", "shard2" })
        {
            (await TrackAsync(client, organisations[shard], "during")).ShouldBe(HttpStatusCode.OK);
            var check = await client.GetFromJsonAsync<JsonElement>($"usage/{organisations[shard]}/check/API_CALLS", Cancel);
            check.GetProperty("used").GetInt64().ShouldBe(2);
        }
        var events = new[] { organisations["main"], down, organisations["shard2"] }
            .Select(orgId => new { orgId, feature = "API_CALLS", quantity = 1, idempotencyKey = $"batch-{orgId}" }).ToList();
        using (var batch = await client.PostAsJsonAsync("usage/events:batch", new { events }, Cancel))
        {
            batch.StatusCode.ShouldBe(HttpStatusCode.OK);
            var results = (await batch.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("results").EnumerateArray().ToList();
            results.Select(r => r.GetProperty("status").GetString()).ShouldBe(["recorded", "rejected", "recorded"]);
            results[1].GetProperty("problem").GetProperty("status").GetInt32().ShouldBe(503);
            results[1].GetProperty("problem").GetProperty("detail").GetString()!.ShouldContain("Shard 'outage' cannot be reached");
        }

        // A read over every organisation names the shard it could not reach rather than answer a total that is short.
        using (var stats = await client.GetAsync("usage/stats", Cancel))
        {
            stats.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            (await stats.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Shard 'outage' cannot be reached; retry shortly.");
        }
        using (var list = await client.GetAsync("organisations", Cancel))
            list.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);

        await outage.StartAsync();

        // Back: its organisation answers again (its pool's broken connections are replaced as they fail), and every
        // call it acknowledged before the outage, plus the ones since, is counted once; the batch's refused event
        // sent again counts once too.
        await Eventually.WaitUntilAsync(
            async () => await TrackAsync(client, down, "after") == HttpStatusCode.OK, "The stopped shard's organisation never answered again.", TimeSpan.FromSeconds(60));
        using (var again = await client.PostAsJsonAsync("usage/events:batch", new { events }, Cancel))
        {
            var results = (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("results").EnumerateArray().ToList();
            results.Select(r => r.GetProperty("status").GetString()).ShouldBe(["duplicate", "recorded", "duplicate"]);
        }
        var limits = await client.GetFromJsonAsync<JsonElement>($"usage/{down}/limits", Cancel);
        limits.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("feature").GetString() == "API_CALLS").GetProperty("used").GetInt64().ShouldBe(3);
    }

    private static async Task<HttpStatusCode> TrackAsync(HttpClient client, string orgId, string key)
    {
        using var response = await client.PostAsJsonAsync($"usage/{orgId}/track", new { feature = "API_CALLS", quantity = 1, idempotencyKey = key }, Cancel);
        return response.StatusCode;
    }
}
