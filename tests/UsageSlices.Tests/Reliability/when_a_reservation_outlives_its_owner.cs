using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

[Collection(nameof(AppCollection))]
public sealed class when_a_reservation_outlives_its_owner
{
    private const string Schema = "usage_slices_holds";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task a_hold_that_expires_while_the_service_is_killed_is_released_after_the_restart()
    {
        await using var service = new ServiceProcess(Schema);
        await service.StartAsync(Cancel);
        var orgId = $"holds-{Guid.NewGuid():N}";
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var admin = service.Tokens.Mint("holds-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        using (var register = await ServiceProcess.SendAsync(client, HttpMethod.Put, $"/api/v1/organisations/{orgId}", admin, new { slug = orgId, name = "Holds" }))
            register.StatusCode.ShouldBe(HttpStatusCode.Created);
        var token = service.Tokens.Mint("holds-test", orgId, [Scopes.Read, Scopes.Write], TimeSpan.FromHours(1));

        JsonNode reserved;
        using (var reserve = await ServiceProcess.SendAsync(client, HttpMethod.Post, $"/api/v1/usage/{orgId}/reservations", token,
            new { feature = "AI_MESSAGES", quantity = 40, expiresInSeconds = 2 }))
        {
            reserve.StatusCode.ShouldBe(HttpStatusCode.Created);
            reserved = JsonNode.Parse(await reserve.Content.ReadAsStringAsync(Cancel))!;
        }

        service.Kill();
        var expiresAt = (DateTimeOffset)reserved["expiresAt"]!;
        await Eventually.WaitUntilAsync(() => DateTimeOffset.UtcNow > expiresAt.AddSeconds(1), "The clock never passed the hold's expiry.");
        // Nobody is left to release it: the hold is still on record, past its expiry.
        (await StatusOfAsync((string)reserved["reservationId"]!)).ShouldBe("Active");

        await service.StartAsync(Cancel);

        await Eventually.WaitUntilAsync(
            async () => await StatusOfAsync((string)reserved["reservationId"]!) == "Expired",
            "The hold was not released after the restart.", TimeSpan.FromSeconds(60));
        using var check = await ServiceProcess.SendAsync(client, HttpMethod.Get, $"/api/v1/usage/{orgId}/check/AI_MESSAGES?quantity=50", token, null);
        var standing = JsonNode.Parse(await check.Content.ReadAsStringAsync(Cancel))!;
        ((long)standing["reserved"]!).ShouldBe(0);
        ((bool)standing["allowed"]!).ShouldBeTrue();
        (await ReleasesAsync(orgId)).ShouldBe(1);
    }

    private static async Task<string?> StatusOfAsync(string reservationId)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var status = new NpgsqlCommand($"select data ->> 'status' from {Schema}.mt_doc_reservation where id = @id", connection);
        status.Parameters.AddWithValue("id", Guid.Parse(reservationId));
        return (string?)await status.ExecuteScalarAsync(Cancel);
    }

    private static async Task<long> ReleasesAsync(string orgId)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var count = new NpgsqlCommand(
            $"select count(*) from {Schema}.mt_events where stream_id like @prefix and type = 'reservation_released'", connection);
        count.Parameters.AddWithValue("prefix", $"{orgId}:%");
        return (long)(await count.ExecuteScalarAsync(Cancel))!;
    }
}
