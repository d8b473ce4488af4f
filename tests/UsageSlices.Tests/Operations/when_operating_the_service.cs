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
    public async Task the_openapi_description_covers_every_route()
    {
        var result = await Host.Scenario(x => x.Get.Url("/openapi/v1.json"));

        var paths = JsonNode.Parse(await result.ReadAsTextAsync())!["paths"]!.AsObject().Select(p => p.Key);
        paths.ShouldBe(
        [
            "/api/v1/organisations/{orgId}", "/api/v1/usage/{orgId}/track", "/api/v1/usage/events:batch", "/api/v1/usage/stats", "/api/v1/usage/{orgId}/check/{feature}",
            "/api/v1/usage/{orgId}/limits", "/api/v1/usage/{orgId}/tier", "/api/v1/tiers", "/api/v1/tiers/{code}", "/api/v1/features",
        ], ignoreOrder: true);
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
    public async Task an_unknown_route_is_a_404_problem()
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/nothing-here");
            x.StatusCodeShouldBe(404);
        });

        await ProblemOf(result, 404);
    }
}
