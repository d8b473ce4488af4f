using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>Input that a lenient reader would take: a line break after an identifier, a property sent twice.</summary>
public sealed class when_input_tries_to_slip_a_check(AppFixture app) : ApiTest(app)
{
    /// <summary>Line feed, carriage return, next line, and the Unicode line and paragraph separators.</summary>
    private static readonly string[] LineBreaks = ["\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029"];

    public static TheoryData<string, string, string, string, string> TrailingLineBreaks()
    {
        var data = new TheoryData<string, string, string, string, string>();
        foreach (var (name, end) in LineBreaks.Select(end => (Name: string.Concat(end.Select(c => $"U+{(int)c:X4}")), end)))
        {
            var id = Uri.EscapeDataString("victim" + end);
            var json = System.Text.Json.JsonSerializer.Serialize(end)[1..^1];
            data.Add($"organisation id {name}", "PUT", $"/api/v1/organisations/{id}", """{"slug":"victim","name":"Victim"}""", "orgId");
            data.Add($"slug {name}", "PUT", "/api/v1/organisations/victim", $$"""{"slug":"victim{{json}}","name":"Victim"}""", "slug");
            data.Add($"tier on registration {name}", "PUT", "/api/v1/organisations/victim", $$"""{"slug":"victim","name":"Victim","tier":"pro{{json}}"}""", "tier");
            data.Add($"assigned tier {name}", "PUT", "/api/v1/usage/acme/tier", $$"""{"tier":"pro{{json}}"}""", "tier");
            data.Add($"tier code {name}", "PUT", $"/api/v1/tiers/{Uri.EscapeDataString("team" + end)}", """{"name":"Team","priceMonthly":1}""", "code");
            data.Add($"currency {name}", "PUT", "/api/v1/tiers/team", $$"""{"name":"Team","priceMonthly":1,"currency":"USD{{json}}"}""", "currency");
            data.Add($"tracked feature {name}", "POST", "/api/v1/usage/acme/track", $$"""{"feature":"AI_MESSAGES{{json}}"}""", "feature");
            data.Add($"idempotency key {name}", "POST", "/api/v1/usage/acme/track", $$"""{"feature":"AI_MESSAGES","idempotencyKey":"k{{json}}"}""", "idempotencyKey");
            data.Add($"tracked organisation id {name}", "POST", $"/api/v1/usage/{id}/track", """{"feature":"AI_MESSAGES"}""", "orgId");
            data.Add($"batch event organisation {name}", "POST", "/api/v1/usage/events:batch",
                $$"""{"events":[{"orgId":"acme{{json}}","feature":"AI_MESSAGES","idempotencyKey":"k"}]}""", "");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TrailingLineBreaks))]
    public async Task an_identifier_code_or_key_with_a_trailing_line_break_is_400_and_stores_nothing(
        string name, string method, string url, string body, string field)
    {
        await RegisterAsync("acme");

        if (url.EndsWith(":batch", StringComparison.Ordinal))
        {
            // A batch judges each event on its own: the event is refused with its own 400, and nothing is recorded.
            var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
            var result = await Host.Scenario(x =>
            {
                x.Post.Text(body).ToUrl(url);
                x.WithRequestHeader("Content-Type", "application/json");
                x.WithBearerToken(AdminToken);
            });
            var reply = await BodyOf(result);
            ((int)reply["results"]![0]!["problem"]!["status"]!).ShouldBe(400, name);
            ((int)reply["rejected"]!).ShouldBe(1, name);
            (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before, name);
            return;
        }

        await RawBodyIsRefusedAsync(method, url, body, AdminToken, field);
    }

    /// <summary>HTTP/1.1 cannot carry a line feed or carriage return in a header value (Kestrel refuses the request), so the other breaks are tried there.</summary>
    [Theory]
    [InlineData("\u0085")]
    [InlineData("\u2028")]
    [InlineData("\u2029")]
    public async Task the_header_idempotency_key_with_a_trailing_line_break_is_400(string end)
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES" }).ToUrl("/api/v1/usage/acme/track");
            x.WithRequestHeader("Idempotency-Key", "k" + end);
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(400);
        });

        ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["Idempotency-Key"]);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task the_command_line_refuses_an_organisation_or_tier_with_a_trailing_line_break()
    {
        await RegisterAsync("acme");
        var service = new ServiceProcess(AppFixture.Schema);

        var organisation = await service.RunCommandAsync("Development", "assign-tier", "--org", "acme\n", "--tier", "pro");
        var tier = await service.RunCommandAsync("Development", "assign-tier", "--org", "acme", "--tier", "pro\n");

        // Refused for their shape, as over HTTP, not merely because nothing of that name exists.
        organisation.ExitCode.ShouldNotBe(0, organisation.Output);
        organisation.Output.ShouldContain("An organisation id is 1-64 characters");
        tier.ExitCode.ShouldNotBe(0, tier.Output);
        tier.Output.ShouldContain("A tier code is 1-32 lowercase letters");
        ((string)(await CheckAsync("acme", "AI_MESSAGES"))["tier"]!).ShouldBe("free");
    }

    [Theory]
    [InlineData("PUT", "/api/v1/organisations/victim", """{"slug":"victim","name":"Victim","slug":"other"}""")]
    [InlineData("POST", "/api/v1/usage/acme/track", """{"feature":"AI_MESSAGES","quantity":1,"quantity":40}""")]
    [InlineData("POST", "/api/v1/usage/acme/track", """{"feature":"AI_MESSAGES","properties":{"k":"a","k":"b"}}""")]
    [InlineData("POST", "/api/v1/usage/events:batch", """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","idempotencyKey":"k","quantity":1,"quantity":9}]}""")]
    [InlineData("PUT", "/api/v1/usage/acme/tier", """{"tier":"pro","tier":"business"}""")]
    [InlineData("PUT", "/api/v1/tiers/team", """{"name":"Team","priceMonthly":1,"limits":{"AI_MESSAGES":1,"AI_MESSAGES":2000}}""")]
    public async Task a_property_sent_twice_is_400_and_changes_nothing(string method, string url, string body)
    {
        await RegisterAsync("acme");

        var problem = await RawBodyIsRefusedAsync(method, url, body, AdminToken, "");

        ((string)problem["detail"]!).ShouldContain("more than once");
    }
}
