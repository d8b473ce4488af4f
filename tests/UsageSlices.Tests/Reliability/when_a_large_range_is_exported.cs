using System.Net;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>The export streams: the service's memory does not grow with the number of events it writes.</summary>
[Collection(nameof(AppCollection))]
public sealed class when_a_large_range_is_exported
{
    private const string Schema = "usage_slices_export";
    private const int Organisations = 4;
    private const int BatchesPerOrganisation = 50;
    private const int EventsPerBatch = 1_000;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task two_hundred_thousand_events_stream_out_while_the_services_memory_stays_flat()
    {
        // A schema of its own, emptied first: each run writes 200,000 events, which would otherwise pile up.
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            await connection.OpenAsync(Cancel);
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync(Cancel);
        }

        await using var service = new ServiceProcess(Schema, settings: new Dictionary<string, string> { ["RateLimiting__PermitsPerSecond"] = "1000000" });
        await service.StartAsync(Cancel);
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var admin = service.Tokens.Mint("export-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        var run = Guid.NewGuid().ToString("N")[..8];
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var orgIds = Enumerable.Range(0, Organisations).Select(i => $"export-{run}-{i}").ToList();
        foreach (var orgId in orgIds)
        {
            using var register = await ServiceProcess.SendAsync(client, HttpMethod.Put, $"/api/v1/organisations/{orgId}", admin, new { slug = orgId, name = "Export" });
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // One organisation's batches after another, the organisations side by side: 200,000 events with properties.
        await Task.WhenAll(orgIds.Select(async orgId =>
        {
            for (var batch = 0; batch < BatchesPerOrganisation; batch++)
            {
                var events = Enumerable.Range(0, EventsPerBatch).Select(i => new
                {
                    orgId,
                    feature = "AI_MESSAGES",
                    quantity = 1 + (i % 7),
                    idempotencyKey = $"{batch}-{i}",
                    properties = new Dictionary<string, string> { ["model"] = i % 2 == 0 ? "large" : "small", ["request"] = Guid.NewGuid().ToString() },
                });
                using var response = await ServiceProcess.SendAsync(client, HttpMethod.Post, "/api/v1/usage/events:batch", admin, new { events });
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }));
        var to = DateTimeOffset.UtcNow.AddSeconds(1);
        var range = $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";

        // A first, small export warms the path up (JIT, buffers), so the baseline is the service at work, not at rest.
        var warm = await ExportAsync(client, admin, $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(from.AddMilliseconds(1).ToString("O"))}", null);
        var baseline = service.ResidentBytes();
        var peak = baseline;
        var (lines, bytes) = await ExportAsync(client, admin, range, () => peak = Math.Max(peak, service.ResidentBytes()));

        TestContext.Current.TestOutputHelper?.WriteLine($"RSS {baseline / 1048576} MB before, {peak / 1048576} MB at most while {lines} events, {bytes / 1048576} MB, were exported.");
        warm.Lines.ShouldBe(0);
        lines.ShouldBe(Organisations * BatchesPerOrganisation * EventsPerBatch);
        // Buffered, the export would need at least its own size again in memory (as UTF-16 strings, twice that).
        bytes.ShouldBeGreaterThan(60L * 1024 * 1024);
        (peak - baseline).ShouldBeLessThan(bytes / 3, $"RSS went from {baseline / 1048576} MB to {peak / 1048576} MB while {bytes / 1048576} MB were exported.");
    }

    /// <summary>Reads the export as it arrives, a buffer at a time, counting lines: the test holds no more of it than the service should.</summary>
    private static async Task<(int Lines, long Bytes)> ExportAsync(HttpClient client, string token, string range, Action? sample)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/usage/export?{range}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/x-ndjson");
        await using var body = await response.Content.ReadAsStreamAsync(Cancel);
        var buffer = new byte[64 * 1024];
        var (lines, bytes, reads) = (0, 0L, 0);
        int read;
        while ((read = await body.ReadAsync(buffer, Cancel)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            bytes += read;
            if (++reads % 16 == 0)
                sample?.Invoke();
        }

        return (lines, bytes);
    }
}
