using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>Body limits are Kestrel's, so these tests talk to the service as a real process over real HTTP.</summary>
public sealed class RunningService : IAsyncLifetime
{
    public ServiceProcess Service { get; } = new("usage_slices_process");

    public string OrgId { get; } = $"limits-{Guid.NewGuid():N}";

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Service.StartAsync(TestContext.Current.CancellationToken);
        Client = new HttpClient { BaseAddress = Service.BaseAddress };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", Service.Tokens.Mint("limits-test", null, [Scopes.Admin], TimeSpan.FromHours(1)));
        using var register = await Client.PutAsJsonAsync($"/api/v1/organisations/{OrgId}", new { slug = OrgId, name = "Limits", tier = "business" });
        register.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Service.DisposeAsync();
    }
}

[Collection(nameof(AppCollection))]
public sealed class when_a_body_is_too_large(RunningService running) : IClassFixture<RunningService>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task a_single_call_over_16_KiB_is_413_problem_json_and_records_nothing()
    {
        var body = "{\"feature\":\"AI_MESSAGES\",\"properties\":{\"pad\":\"" + new string('x', 17 * 1024) + "\"}}";

        using var response = await PostAsync($"/api/v1/usage/{running.OrgId}/track", new StringContent(body, Encoding.UTF8, "application/json"));

        await ShouldBeProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        (await UsedAsync("AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_chunked_body_with_no_length_is_cut_off_at_16_KiB_too()
    {
        var body = "{\"feature\":\"AI_MESSAGES\",\"properties\":{\"pad\":\"" + new string('x', 17 * 1024) + "\"}}";
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/usage/{running.OrgId}/track") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await running.Client.SendAsync(request, Cancel);

        await ShouldBeProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task a_batch_of_a_thousand_events_fits_in_its_1_MiB_limit()
    {
        var events = Enumerable.Range(0, 1_000).Select(i => new { orgId = running.OrgId, feature = "API_CALLS", quantity = 1, idempotencyKey = $"batch-{i}" });

        using var response = await running.Client.PostAsJsonAsync("/api/v1/usage/events:batch", new { events }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await UsedAsync("API_CALLS")).ShouldBe(1_000);
    }

    [Fact]
    public async Task a_batch_over_1_MiB_is_413()
    {
        var pad = new string('x', 250);
        var events = Enumerable.Range(0, 1_000).Select(i => new
        {
            orgId = running.OrgId,
            feature = "INVOICES",
            quantity = 1,
            idempotencyKey = $"big-{i}",
            properties = new Dictionary<string, string> { ["a"] = pad, ["b"] = pad, ["c"] = pad, ["d"] = pad },
        });

        // Expect: 100-continue lets the service refuse on the length alone. Sent outright, the service answers 413 and
        // closes while megabytes are still in flight, and the reset can reach the client before the answer does.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/usage/events:batch") { Content = JsonContent.Create(new { events }) };
        request.Headers.ExpectContinue = true;
        await request.Content.LoadIntoBufferAsync(Cancel);
        request.Content.Headers.ContentLength.ShouldNotBeNull().ShouldBeGreaterThan(1024 * 1024);
        using var response = await running.Client.SendAsync(request, Cancel);

        await ShouldBeProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        (await UsedAsync("INVOICES")).ShouldBe(0);
    }

    [Fact]
    public async Task json_nested_deeper_than_the_contract_is_400()
    {
        var body = "{\"feature\":\"AI_MESSAGES\",\"properties\":" + string.Concat(Enumerable.Repeat("{\"a\":", 50)) + "1" + new string('}', 50) + "}";

        using var response = await PostAsync($"/api/v1/usage/{running.OrgId}/track", new StringContent(body, Encoding.UTF8, "application/json"));

        await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// A batch body that trickles in at 1,000 B/s — faster than Kestrel's default minimum (240 B/s), slower than the
    /// route's 4,096 B/s — is cut once the 5 s grace is over, so an upload can hold a connection for seconds, never for
    /// as long as the client likes. (At Kestrel's default this 20 KB body would have taken its 20 s and been recorded.)
    /// </summary>
    [Fact]
    public async Task a_batch_body_that_trickles_in_is_cut_off_with_408_and_records_nothing()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"events":[{"orgId":"{{running.OrgId}}","feature":"DOCUMENT_SCANS","quantity":1,"idempotencyKey":"slow"}]}""" + new string(' ', 20_000));
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(running.Service.BaseAddress.Host, running.Service.BaseAddress.Port, Cancel);
        var stream = tcp.GetStream();
        var head = $"POST /api/v1/usage/events:batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
            $"Authorization: {running.Client.DefaultRequestHeaders.Authorization}\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Cancel);

        // 100 bytes every 100 ms until the service answers; 60 s (three times the whole body's time) means it never did.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        var answer = RawHttp.ReadToEndAsync(stream, deadline.Token);
        for (var sent = 0; sent < body.Length && !answer.IsCompleted; sent += 100)
        {
            try
            {
                await stream.WriteAsync(body.AsMemory(sent, Math.Min(100, body.Length - sent)), deadline.Token);
                await Task.Delay(100, deadline.Token);
            }
            catch (IOException)
            {
                break; // the service closed the connection
            }
        }

        (await answer).ShouldStartWith("HTTP/1.1 408");
        (await UsedAsync("DOCUMENT_SCANS")).ShouldBe(0);
    }

    private Task<HttpResponseMessage> PostAsync(string url, HttpContent content) => running.Client.PostAsync(url, content, Cancel);

    private async Task<long> UsedAsync(string feature)
    {
        var check = JsonNode.Parse(await running.Client.GetStringAsync($"/api/v1/usage/{running.OrgId}/check/{feature}", Cancel))!;
        return (long)check["used"]!;
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        response.StatusCode.ShouldBe(status);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!;
        ((int)problem["status"]!).ShouldBe((int)status);
        ((string?)problem["detail"]).ShouldNotBeNullOrWhiteSpace();
        ((string?)problem["traceId"]).ShouldNotBeNullOrWhiteSpace();
    }
}
