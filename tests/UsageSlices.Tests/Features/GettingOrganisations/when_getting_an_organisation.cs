using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.GettingOrganisations;

public sealed class when_getting_an_organisation(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task its_own_token_reads_it()
    {
        await RegisterAsync("acme", "starter", billingAnchorDay: 31);

        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/organisations/acme");
            x.WithBearerToken(TokenFor("acme"));
        });

        var organisation = await BodyOf(result);
        ((string)organisation["id"]!).ShouldBe("acme");
        ((string)organisation["slug"]!).ShouldBe("acme");
        ((string)organisation["name"]!).ShouldBe("Org acme");
        ((string)organisation["tier"]!).ShouldBe("starter");
        ((int)organisation["billingAnchorDay"]!).ShouldBe(31);
        ((string?)organisation["createdAt"]).ShouldNotBeNull();
    }

    [Fact]
    public async Task an_unknown_organisation_is_404()
    {
        await GetProblemAsync("/api/v1/organisations/ghost", TokenFor("ghost"), 404);
    }

    [Fact]
    public async Task another_organisations_token_is_403_and_no_token_is_401()
    {
        await RegisterAsync("acme");

        await GetProblemAsync("/api/v1/organisations/acme", TokenFor("rival"), 403);

        await GetProblemAsync("/api/v1/organisations/acme", null, 401);
    }
}
