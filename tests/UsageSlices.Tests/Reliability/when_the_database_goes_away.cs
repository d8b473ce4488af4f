using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

[Collection(nameof(AppCollection))]
public sealed class when_the_database_goes_away
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task calls_answer_503_fast_readiness_fails_liveness_holds_and_the_service_recovers_with_nothing_acknowledged_lost()
    {
        Assert.SkipUnless(ThrowawayPostgres.IsAvailable, "needs root and Debian's postgresql-common to stop a PostgreSQL cluster of its own");
        await using var postgres = new ThrowawayPostgres();
        await postgres.CreateAsync();
        await using var service = new ServiceProcess("usage_slices_outage", postgres.ConnectionString);
        await service.StartAsync(Cancel);
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", service.Tokens.Mint("outage-test", null, [Scopes.Admin], TimeSpan.FromHours(1)));
        (await client.PutAsJsonAsync("/api/v1/organisations/acme", new { slug = "acme", name = "Acme", tier = "pro" }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var acknowledged = 0;
        for (var i = 0; i < 5; i++)
            acknowledged += await TrackAsync(client, $"before-{i}") == HttpStatusCode.OK ? 1 : 0;

        await postgres.StopAsync();

        var outage = new List<(HttpStatusCode Status, TimeSpan Took)>();
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await PostTrackAsync(client, $"during-{i}", async: i % 2 == 1);
            outage.Add((response.StatusCode, clock.Elapsed));
            response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!;
            ((string)problem["detail"]!).ShouldContain("database");
            problem.ToJsonString().ShouldNotContain("   at ");
        }

        outage.ShouldAllBe(call => call.Took < TimeSpan.FromSeconds(5));
        // The export runs its query before it writes a byte, so an outage is a problem response, not a 200 cut short.
        var range = $"from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"))}";
        using (var export = await client.GetAsync($"/api/v1/usage/export?{range}&format=csv", Cancel))
        {
            export.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            export.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        }

        // Readiness answers from the probe that runs every 2 s, so it turns within a few seconds, not at once.
        await Eventually.WaitUntilAsync(async () => await StatusOfAsync(client, "/health/ready") == HttpStatusCode.ServiceUnavailable,
            "/health/ready never answered 503 during the outage.", TimeSpan.FromSeconds(15));
        using (var live = await client.GetAsync("/health/live", Cancel))
            live.StatusCode.ShouldBe(HttpStatusCode.OK);

        await postgres.StartAsync();

        var recovered = Stopwatch.StartNew();
        var status = HttpStatusCode.ServiceUnavailable;
        while (status != HttpStatusCode.OK && recovered.Elapsed < TimeSpan.FromSeconds(60))
            status = await TrackAsync(client, "after-0");
        status.ShouldBe(HttpStatusCode.OK);
        acknowledged++;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"During the outage: {string.Join(", ", outage.Select(c => $"{(int)c.Status} in {c.Took.TotalMilliseconds:F0} ms"))}; recovered in {recovered.Elapsed.TotalSeconds:F1} s.");
        await Eventually.WaitUntilAsync(async () => await StatusOfAsync(client, "/health/ready") == HttpStatusCode.OK,
            "/health/ready never answered 200 after the outage.", TimeSpan.FromSeconds(15));
        var check = JsonNode.Parse(await client.GetStringAsync("/api/v1/usage/acme/check/AI_MESSAGES", Cancel))!;
        ((long)check["used"]!).ShouldBe(acknowledged);
    }

    private static async Task<HttpStatusCode> StatusOfAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Cancel);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> TrackAsync(HttpClient client, string key)
    {
        using var response = await PostTrackAsync(client, key, async: false);
        return response.StatusCode;
    }

    private static Task<HttpResponseMessage> PostTrackAsync(HttpClient client, string key, bool async)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/usage/acme/track")
        {
            Content = JsonContent.Create(new { feature = "AI_MESSAGES", quantity = 1, idempotencyKey = key }),
        };
        if (async)
            request.Headers.Add("Prefer", "respond-async");
        return client.SendAsync(request, Cancel);
    }
}
