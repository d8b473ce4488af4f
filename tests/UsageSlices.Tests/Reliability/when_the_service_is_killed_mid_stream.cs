using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

[Collection(nameof(AppCollection))]
public sealed class when_the_service_is_killed_mid_stream
{
    private const string Schema = "usage_slices_crash";
    private const int Events = 5_000;
    private const int KillAfterAcknowledged = 1_500;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task every_acknowledged_async_event_is_counted_exactly_once_across_a_sigkill_and_a_restart()
    {
        await using var service = new ServiceProcess(Schema);
        await service.StartAsync(Cancel);
        var orgId = $"crash-{Guid.NewGuid():N}";
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var admin = service.Tokens.Mint("crash-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        using (var register = await ServiceProcess.SendAsync(client, HttpMethod.Put, $"/api/v1/organisations/{orgId}", admin, new { slug = orgId, name = "Crash", tier = "business" }))
            register.StatusCode.ShouldBe(HttpStatusCode.Created);

        var token = service.Tokens.Mint("crash-test", orgId, [Scopes.Read, Scopes.Write], TimeSpan.FromHours(1));
        var acknowledged = new ConcurrentDictionary<int, bool>();
        var killed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Events), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Cancel }, async (i, ct) =>
        {
            if (await TrackAsync(client, orgId, token, i))
                acknowledged[i] = true;
            if (acknowledged.Count >= KillAfterAcknowledged && Interlocked.Exchange(ref killed, 1) == 0)
                service.Kill();
        });
        var acknowledgedBeforeKill = acknowledged.Count;
        acknowledgedBeforeKill.ShouldBeLessThan(Events);

        await service.StartAsync(Cancel);
        foreach (var i in Enumerable.Range(0, Events).Where(i => !acknowledged.ContainsKey(i)))
            (await TrackAsync(client, orgId, token, i)).ShouldBeTrue($"event {i} was refused after the restart");

        var used = await WaitForQueueToDrainAsync(client, orgId, token);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{acknowledgedBeforeKill} of {Events} acknowledged before SIGKILL; {Events - acknowledgedBeforeKill} re-sent after restart; counted {used}.");
        used.ShouldBe(Events);
        (await RecordedEventsAsync(orgId)).ShouldBe(Events);
    }

    private static async Task<bool> TrackAsync(HttpClient client, string orgId, string token, int i)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/usage/{orgId}/track")
            {
                Content = JsonContent.Create(new { feature = "AI_MESSAGES", quantity = 1, idempotencyKey = $"event-{i}" }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Prefer", "respond-async");
            using var response = await client.SendAsync(request, Cancel);
            return response.StatusCode == HttpStatusCode.Accepted;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Waits (up to two minutes) until no queued track message is left unhandled, then reads the count.</summary>
    private static async Task<long> WaitForQueueToDrainAsync(HttpClient client, string orgId, string token)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await using var pending = new NpgsqlCommand(
                $"select count(*) from {Schema}.wolverine_incoming_envelopes where status <> 'Handled' and message_type like '%TrackUsageQueued%'",
                connection);
            if ((long)(await pending.ExecuteScalarAsync(Cancel))! == 0)
                break;
            await Task.Delay(200, Cancel);
        }

        using var check = await ServiceProcess.SendAsync(client, HttpMethod.Get, $"/api/v1/usage/{orgId}/check/AI_MESSAGES", token, null);
        var body = JsonNode.Parse(await check.Content.ReadAsStringAsync(Cancel))!;
        return (long)body["used"]!;
    }

    private static async Task<long> RecordedEventsAsync(string orgId)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand($"select count(*) from {Schema}.mt_events where stream_id like @prefix", connection);
        count.Parameters.AddWithValue("prefix", $"{orgId}:%");
        return (long)(await count.ExecuteScalarAsync(Cancel))!;
    }
}
