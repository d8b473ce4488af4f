using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Marten;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.TrackingUsageInBatches;

public sealed class when_tracking_a_batch(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task an_admin_batch_records_each_event_for_its_organisation_with_a_result_per_event()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex", "pro");

        var response = await BatchAsync(AdminToken,
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "a-1" },
            new { orgId = "globex", feature = "API_CALLS", quantity = 10, idempotencyKey = "g-1" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 3, idempotencyKey = "a-2" },
            new { orgId = "acme", feature = "TEAM_MEMBERS", quantity = 1, idempotencyKey = "a-3" });

        ((int)response["recorded"]!).ShouldBe(4);
        ((int)response["duplicates"]!).ShouldBe(0);
        ((int)response["rejected"]!).ShouldBe(0);
        var results = response["results"]!.AsArray();
        results.Select(r => (int)r!["index"]!).ShouldBe([0, 1, 2, 3]);
        results.ShouldAllBe(r => (string)r!["status"]! == "recorded");
        ((long)results[2]!["result"]!["used"]!).ShouldBe(5);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(5);
        (await UsedAsync("acme", "TEAM_MEMBERS")).ShouldBe(1);
        (await UsedAsync("globex", "API_CALLS")).ShouldBe(10);
    }

    [Fact]
    public async Task sending_the_same_batch_again_changes_nothing_and_answers_duplicates()
    {
        await RegisterAsync("acme");
        object[] events =
        [
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "a-1" },
            new { orgId = "acme", feature = "DOCUMENT_SCANS", quantity = 1, idempotencyKey = "a-2" },
        ];
        var first = await BatchAsync(TokenFor("acme"), events);

        var again = await BatchAsync(TokenFor("acme"), events);

        ((int)again["duplicates"]!).ShouldBe(2);
        ((int)again["recorded"]!).ShouldBe(0);
        ((string)again["results"]![0]!["result"]!["eventId"]!).ShouldBe((string)first["results"]![0]!["result"]!["eventId"]!);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(2);
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(1);
    }

    [Fact]
    public async Task a_key_repeated_inside_one_batch_counts_once()
    {
        await RegisterAsync("acme");

        var response = await BatchAsync(TokenFor("acme"),
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 4, idempotencyKey = "same" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 4, idempotencyKey = "same" });

        response["results"]!.AsArray().Select(r => (string)r!["status"]!).ShouldBe(["recorded", "duplicate"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(4);
    }

    [Fact]
    public async Task a_bad_event_is_rejected_with_its_own_problem_and_the_others_are_recorded()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        await TrackAsync("acme", "AI_MESSAGES", 1, key: "used-before");

        var response = await BatchAsync(TokenFor("acme"),
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "ok-1" },
            new { orgId = "ghost", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "x-1" },
            new { orgId = "acme", feature = "NOT_A_FEATURE", quantity = 1, idempotencyKey = "x-2" },
            new { orgId = "acme", feature = "API_ACCESS", quantity = 1, idempotencyKey = "x-3" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1 },
            new { orgId = "acme", feature = "BANK_CONNECTIONS", quantity = -1, idempotencyKey = "x-5" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 9, idempotencyKey = "used-before" },
            new { orgId = "rival", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "x-7" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 0, idempotencyKey = "x-8" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 2, idempotencyKey = "ok-2" });

        ((int)response["recorded"]!).ShouldBe(2);
        ((int)response["rejected"]!).ShouldBe(8);
        var statuses = response["results"]!.AsArray().Select(r => r!["problem"] is { } p ? (int)p["status"]! : 200).ToList();
        // A token for acme may not even learn whether 'ghost' exists: 403 before 404.
        statuses.ShouldBe([200, 403, 400, 400, 400, 409, 409, 403, 400, 200]);
        response["results"]!.AsArray().Where(r => r!["problem"] is not null)
            .ShouldAllBe(r => !string.IsNullOrEmpty((string?)r!["problem"]!["detail"]));
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(4);
        (await UsedAsync("rival", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task an_unknown_organisation_in_an_admin_batch_is_404_for_that_event()
    {
        await RegisterAsync("acme");

        var response = await BatchAsync(AdminToken,
            new { orgId = "ghost", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "g" },
            new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "a" });

        ((int)response["results"]![0]!["problem"]!["status"]!).ShouldBe(404);
        ((string)response["results"]![1]!["status"]!).ShouldBe("recorded");
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(1);
    }

    [Fact]
    public async Task a_thousand_events_are_recorded_in_one_call()
    {
        await RegisterAsync("acme", "business");
        var events = Enumerable.Range(0, UsageSlices.Features.TrackingUsageInBatches.TrackUsageBatch.MaxEvents)
            .Select(i => (object)new { orgId = "acme", feature = i % 2 == 0 ? "AI_MESSAGES" : "API_CALLS", quantity = 1, idempotencyKey = $"k-{i}" })
            .ToArray();

        var response = await BatchAsync(TokenFor("acme"), events);

        ((int)response["recorded"]!).ShouldBe(1_000);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(500);
        (await UsedAsync("acme", "API_CALLS")).ShouldBe(500);
        await using var session = Store.QuerySession();
        (await session.Events.QueryRawEventDataOnly<UsageRecorded>().CountAsync(Cancel)).ShouldBe(1_000);
    }

    [Fact]
    public async Task concurrent_batches_over_the_same_streams_in_opposite_orders_neither_deadlock_nor_lose_events()
    {
        await RegisterAsync("acme", "business");
        string[] features = ["AI_MESSAGES", "DOCUMENT_SCANS", "INVOICES", "API_CALLS"];
        using var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor("acme"));

        var batches = Enumerable.Range(0, 20).Select(async b =>
        {
            var ordered = b % 2 == 0 ? features : features.Reverse().ToArray();
            var events = ordered.Select(f => new { orgId = "acme", feature = f, quantity = 1, idempotencyKey = $"{b}-{f}" }).ToArray();
            using var response = await client.PostAsJsonAsync("/api/v1/usage/events:batch", new { events }, Cancel);
            return response.StatusCode;
        });

        (await Task.WhenAll(batches)).ShouldAllBe(status => status == HttpStatusCode.OK);
        foreach (var feature in features)
            (await UsedAsync("acme", feature)).ShouldBe(20);
    }

    [Fact]
    public async Task the_same_batch_sent_ten_times_at_once_counts_once_and_every_call_succeeds()
    {
        await RegisterAsync("acme", "business");
        await RegisterAsync("globex", "business");
        // The streams exist already, so the batches queue on their locks and then race on the idempotency records.
        foreach (var org in new[] { "acme", "globex" })
        {
            await TrackAsync(org, "AI_MESSAGES");
            await TrackAsync(org, "API_CALLS");
        }

        var events = Enumerable.Range(0, 50)
            .Select(i => new { orgId = i % 2 == 0 ? "acme" : "globex", feature = i % 3 == 0 ? "API_CALLS" : "AI_MESSAGES", quantity = 1, idempotencyKey = $"same-{i}" })
            .ToArray();
        using var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);

        var calls = Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync("/api/v1/usage/events:batch", new { events }, Cancel);
            return (response.StatusCode, Body: System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel)));
        });
        var answers = await Task.WhenAll(calls);

        answers.ShouldAllBe(answer => answer.StatusCode == HttpStatusCode.OK);
        answers.Sum(answer => (int)answer.Body!["recorded"]!).ShouldBe(50);
        answers.Sum(answer => (int)answer.Body!["duplicates"]!).ShouldBe(450);
        (await UsedAsync("acme", "AI_MESSAGES") + await UsedAsync("globex", "AI_MESSAGES")).ShouldBe(2 + 33);
        (await UsedAsync("acme", "API_CALLS") + await UsedAsync("globex", "API_CALLS")).ShouldBe(2 + 17);
    }

    [Theory]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{}""", "events")]
    [InlineData("""{"events":{}}""", "")]
    [InlineData("""{"events":[{"orgId":"acme","feature":"AI_MESSAGES","enforce":true}]}""", "")]
    public async Task a_malformed_batch_is_400_and_records_nothing(string body, string field)
    {
        await RegisterAsync("acme");

        await RawBodyIsRefusedAsync("POST", "/api/v1/usage/events:batch", body, TokenFor("acme"), field);
    }

    [Fact]
    public async Task more_than_a_thousand_events_is_400()
    {
        await RegisterAsync("acme");
        var events = Enumerable.Range(0, UsageSlices.Features.TrackingUsageInBatches.TrackUsageBatch.MaxEvents + 1)
            .Select(i => new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = $"k-{i}" });

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { events }).ToUrl("/api/v1/usage/events:batch");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["events"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_read_only_token_is_403_and_no_token_is_401()
    {
        await RegisterAsync("acme");
        var body = new { events = new[] { new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = "k" } } };

        var forbidden = await Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl("/api/v1/usage/events:batch");
            x.WithBearerToken(TokenFor("acme", Scopes.Read));
            x.StatusCodeShouldBe(403);
        });
        await ProblemOf(forbidden, 403);
        var anonymous = await Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl("/api/v1/usage/events:batch");
            x.StatusCodeShouldBe(401);
        });
        await ProblemOf(anonymous, 401);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    private async Task<JsonObject> BatchAsync(string token, params object[] events)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { events }).ToUrl("/api/v1/usage/events:batch");
            x.WithBearerToken(token);
        });
        return await BodyOf(result);
    }
}
