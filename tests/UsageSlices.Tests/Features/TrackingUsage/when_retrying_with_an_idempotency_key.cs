using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsage;

public sealed class when_retrying_with_an_idempotency_key(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_retry_returns_the_original_result_marked_duplicate_and_counts_once()
    {
        await RegisterAsync("acme");
        var first = await TrackAsync("acme", "AI_MESSAGES", 5, key: "msg-1");
        await TrackAsync("acme", "AI_MESSAGES", 1);

        var retry = await TrackAsync("acme", "AI_MESSAGES", 5, key: "msg-1");

        ((bool)retry["duplicate"]!).ShouldBeTrue();
        ((string)retry["eventId"]!).ShouldBe((string)first["eventId"]!);
        ((long)retry["used"]!).ShouldBe(5);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(6);
    }

    [Fact]
    public async Task the_key_may_come_in_the_idempotency_key_header()
    {
        await RegisterAsync("acme");

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var result = await Host.Scenario(x =>
            {
                x.Post.Json(new { feature = "AI_MESSAGES", quantity = 2 }).ToUrl("/api/v1/usage/acme/track");
                x.WithRequestHeader("Idempotency-Key", "header-key");
                x.WithBearerToken(TokenFor("acme"));
            });
            ((bool)(await BodyOf(result))["duplicate"]!).ShouldBe(attempt == 1);
        }

        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
    }

    [Fact]
    public async Task a_header_and_body_key_that_differ_is_400()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", idempotencyKey = "body-key" }).ToUrl("/api/v1/usage/acme/track");
            x.WithRequestHeader("Idempotency-Key", "header-key");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["Idempotency-Key"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Theory]
    [InlineData("AI_MESSAGES", 3)]
    [InlineData("DOCUMENT_SCANS", 2)]
    public async Task the_same_key_with_another_feature_or_quantity_is_409_and_changes_nothing(string feature, long quantity)
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 2, key: "k");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature, quantity, idempotencyKey = "k" }).ToUrl("/api/v1/usage/acme/track");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(409);
        });

        (await ProblemOf(result, 409))["detail"]!.ToString().ShouldContain("'k'");
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(0);
    }

    [Fact]
    public async Task keys_are_per_organisation()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        await TrackAsync("acme", "AI_MESSAGES", 1, key: "shared");

        var other = await TrackAsync("rival", "AI_MESSAGES", 1, key: "shared");

        ((bool)other["duplicate"]!).ShouldBeFalse();
        (await UsedAsync("rival", "AI_MESSAGES")).ShouldBe(1);
    }
}
