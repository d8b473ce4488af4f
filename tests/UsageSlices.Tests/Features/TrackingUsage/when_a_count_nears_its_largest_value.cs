using Npgsql;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

/// <summary>A counter seeded in the database close to the largest 64-bit number: arithmetic never wraps round.</summary>
public sealed class when_a_count_nears_its_largest_value(AppFixture app) : ApiTest(app)
{
    private const long NearTheTop = long.MaxValue - 10;

    private async Task SeedAsync(string feature, long used)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var seed = new NpgsqlCommand(
            $"update {AppFixture.Schema}.mt_doc_usagecounter set data = jsonb_set(data, '{{used}}', to_jsonb(@used)) where id = @id", connection);
        seed.Parameters.AddWithValue("used", used);
        seed.Parameters.AddWithValue("id", $"acme:{feature}");
        (await seed.ExecuteNonQueryAsync(Cancel)).ShouldBe(1);
    }

    [Fact]
    public async Task a_track_that_would_overflow_is_409_and_records_nothing()
    {
        await RegisterAsync("acme", "business");
        await TrackAsync("acme", "BANK_CONNECTIONS");
        await SeedAsync("BANK_CONNECTIONS", NearTheTop);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var problem = await ProblemOf(await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "BANK_CONNECTIONS", quantity = 100 }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(409);
        }), 409);

        ((string)problem["detail"]!).ShouldContain("overflow");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await UsedAsync("acme", "BANK_CONNECTIONS")).ShouldBe(NearTheTop);
        // The last units that fit are still taken.
        ((long)(await TrackAsync("acme", "BANK_CONNECTIONS", 10))["used"]!).ShouldBe(long.MaxValue);
    }

    [Fact]
    public async Task a_check_and_enforce_mode_refuse_by_the_limit_instead_of_wrapping_round()
    {
        await RegisterAsync("acme", "business");
        await TrackAsync("acme", "TEAM_MEMBERS");
        await SeedAsync("TEAM_MEMBERS", NearTheTop);

        var check = await CheckAsync("acme", "TEAM_MEMBERS", 100);
        var refused = await ProblemOf(await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "TEAM_MEMBERS", quantity = 100, enforce = true }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(402);
        }), 402);

        ((bool)check["allowed"]!).ShouldBeFalse();
        ((string)check["reason"]!).ShouldBe("LIMIT_EXCEEDED");
        ((long)check["remaining"]!).ShouldBe(0);
        ((string)refused["reason"]!).ShouldBe("LIMIT_EXCEEDED");
        ((long)refused["used"]!).ShouldBe(NearTheTop);
    }
}
