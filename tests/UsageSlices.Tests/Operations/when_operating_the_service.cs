using System.Text.Json.Nodes;
using Alba;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Operations;

public sealed class when_operating_the_service(AppFixture app) : ApiTest(app)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task health_checks_answer_healthy_without_a_token(string url)
    {
        var result = await Host.Scenario(x => x.Get.Url(url));

        (await result.ReadAsTextAsync()).ShouldBe("Healthy");
    }

    [Fact]
    public async Task the_openapi_servers_are_relative_whatever_host_the_request_names()
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/openapi/v1.json");
            x.WithRequestHeader("Host", "attacker.example");
        });

        var servers = (await BodyOf(result))["servers"]!.AsArray();
        servers.Select(server => (string)server!["url"]!).ShouldBe(["/"]);
        (await result.ReadAsTextAsync()).ShouldNotContain("attacker.example");
    }

    [Fact]
    public async Task the_openapi_description_covers_every_route()
    {
        var result = await Host.Scenario(x => x.Get.Url("/openapi/v1.json"));

        var paths = JsonNode.Parse(await result.ReadAsTextAsync())!["paths"]!.AsObject().Select(p => p.Key);
        paths.ShouldBe(
        [
            "/api/v1/organisations", "/api/v1/organisations/{orgId}", "/api/v1/usage/{orgId}/track", "/api/v1/usage/events:batch", "/api/v1/usage/stats", "/api/v1/usage/{orgId}/check/{feature}",
            "/api/v1/usage/{orgId}/limits", "/api/v1/usage/{orgId}/tier", "/api/v1/tiers", "/api/v1/tiers/{code}", "/api/v1/features",
            "/api/v1/organisations/{orgId}/overrides", "/api/v1/organisations/{orgId}/overrides/{feature}",
            "/api/v1/usage/{orgId}/reservations", "/api/v1/usage/{orgId}/reservations/{reservationId}", "/api/v1/usage/{orgId}/reservations/{reservationId}/commit",
            "/api/v1/usage/{orgId}/events", "/api/v1/usage/{orgId}/history", "/api/v1/usage/{orgId}/corrections",
            "/api/v1/usage/{orgId}/events/{eventId}/void", "/api/v1/usage/export",
            "/api/v1/webhooks", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/rotate-secret", "/api/v1/webhooks/{id}/test",
            "/api/v1/webhooks/{id}/deliveries", "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
        ], ignoreOrder: true);
    }

    [Fact]
    public async Task every_operation_describes_its_success_schema_and_its_problem_responses()
    {
        var result = await Host.Scenario(x => x.Get.Url("/openapi/v1.json"));
        var document = JsonNode.Parse(await result.ReadAsTextAsync())!;

        var operations = document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(op => (Name: $"{op.Key} {path.Key}", Operation: op.Value!))).ToList();
        operations.Count.ShouldBe(34);
        foreach (var (name, operation) in operations)
        {
            var responses = operation["responses"]!.AsObject();
            // A success answers with a described body, unless it is a 204, which has none.
            responses.Where(r => r.Key.StartsWith('2')).ShouldContain(r => r.Key == "204" || r.Value!["content"] != null, name);
            foreach (var status in new[] { "400", "401", "403", "429", "503" })
                responses[status]?["content"]?["application/problem+json"].ShouldNotBeNull($"{name} {status}");
        }

        var track = document["paths"]!["/api/v1/usage/{orgId}/track"]!["post"]!["responses"]!.AsObject();
        track.Select(r => r.Key).ShouldBe(["200", "202", "400", "401", "402", "403", "404", "409", "413", "429", "503"], ignoreOrder: true);
        document["components"]!["schemas"]!["TrackUsageBody"]!["examples"]![0]!["feature"]!.ToString().ShouldBe("AI_MESSAGES");
        document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.ToString().ShouldBe("bearer");
    }

    [Fact]
    public async Task every_operation_is_in_one_area_and_has_a_short_name_with_its_sentence_as_description()
    {
        var result = await Host.Scenario(x => x.Get.Url("/openapi/v1.json"));
        var document = JsonNode.Parse(await result.ReadAsTextAsync())!;

        document["tags"]!.AsArray().Select(t => (string)t!["name"]!)
            .ShouldBe(["Organisations", "Usage", "Reservations", "Tiers", "Webhooks", "Operations"]);
        document["tags"]!.AsArray().ShouldAllBe(t => ((string)t!["description"]!).Length > 20);
        var operations = document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(op => op.Value!)).ToList();
        var areas = operations.GroupBy(op => (string)op["tags"]!.AsArray().Single()!).ToDictionary(g => g.Key, g => g.Count());
        areas.ShouldBe(new Dictionary<string, int>
        {
            ["Organisations"] = 7,
            ["Usage"] = 8,
            ["Reservations"] = 4,
            ["Tiers"] = 4,
            ["Webhooks"] = 9,
            ["Operations"] = 2,
        }, ignoreOrder: true);

        var track = document["paths"]!["/api/v1/usage/{orgId}/track"]!["post"]!;
        ((string)track["summary"]!).ShouldBe("Track usage");
        ((string)track["description"]!).ShouldStartWith("Record that an organisation used");
        operations.ShouldAllBe(op => ((string)op["summary"]!).Length <= 30 && ((string)op["description"]!).Length > ((string)op["summary"]!).Length);
    }

    [Fact]
    public async Task the_interactive_page_loads_its_script_from_the_service_itself()
    {
        var page = await Host.Scenario(x => x.Get.Url("/docs/"));
        var html = await page.ReadAsTextAsync();
        html.ShouldContain("src=\"scalar.js\"");
        html.ShouldNotContain("cdn.");

        await Host.Scenario(x =>
        {
            x.Get.Url("/docs/scalar.js");
            x.ContentTypeShouldBe("text/javascript");
        });
        await Host.Scenario(x =>
        {
            x.Get.Url("/docs");
            x.StatusCodeShouldBe(302);
            x.Header("Location").SingleValueShouldEqual("/docs/");
        });
    }

    [Fact]
    public async Task the_dashboard_is_served_from_the_assembly_under_its_content_security_policy()
    {
        await Host.Scenario(x =>
        {
            x.Get.Url("/admin");
            x.StatusCodeShouldBe(302);
            x.Header("Location").SingleValueShouldEqual("/admin/");
        });
        var page = await Host.Scenario(x =>
        {
            x.Get.Url("/admin/");
            x.ContentTypeShouldBe("text/html");
            x.Header("Content-Security-Policy").SingleValueShouldMatch("^default-src 'none'; script-src 'self';");
            x.Header("X-Frame-Options").SingleValueShouldEqual("DENY");
        });
        (await page.ReadAsTextAsync()).ShouldContain("<script type=\"module\" src=\"js/app.js\"></script>");
        await Host.Scenario(x =>
        {
            x.Get.Url("/admin/js/app.js");
            x.ContentTypeShouldBe("text/javascript");
        });
    }

    [Fact]
    public async Task an_unknown_route_is_a_404_problem()
    {
        await GetProblemAsync("/api/v1/nothing-here", null, 404);
    }
}
