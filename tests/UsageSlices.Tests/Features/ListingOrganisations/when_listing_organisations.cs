using System.Text.Json.Nodes;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.ListingOrganisations;

public sealed class when_listing_organisations(AppFixture app) : ApiTest(app)
{
    private async Task<JsonObject> ListAsync(string query)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url($"/api/v1/organisations{query}");
            x.WithBearerToken(AdminToken);
        });
        return await BodyOf(result);
    }

    private static string[] IdsOf(JsonObject page) => [.. page["organisations"]!.AsArray().Select(o => (string)o!["id"]!)];

    [Fact]
    public async Task a_search_finds_ids_slugs_and_names_ignoring_case_and_a_tier_narrows_it()
    {
        await RegisterAsync("acme-eu", "pro");
        await RegisterAsync("Acme-US");
        await RegisterAsync("globex");
        await RegisterAsync("initech", "pro");

        IdsOf(await ListAsync("")).ShouldBe(["Acme-US", "acme-eu", "globex", "initech"]);
        IdsOf(await ListAsync("?search=ACME")).ShouldBe(["Acme-US", "acme-eu"]);
        // The names are "Org <id>": a search matches them too.
        IdsOf(await ListAsync("?search=org%20glob")).ShouldBe(["globex"]);
        IdsOf(await ListAsync("?search=acme&tier=pro")).ShouldBe(["acme-eu"]);
        IdsOf(await ListAsync("?tier=business")).ShouldBeEmpty();

        var acme = (await ListAsync("?search=acme-eu"))["organisations"]![0]!;
        ((string)acme["slug"]!, (string)acme["name"]!, (string)acme["tier"]!).ShouldBe(("acme-eu", "Org acme-eu", "pro"));
    }

    [Fact]
    public async Task like_wildcards_in_a_search_are_plain_characters()
    {
        // Slugs take no '_', so these two are registered with slugs of their own.
        foreach (var (id, slug) in new[] { ("a_b", "first"), ("axb", "second") })
            await Host.Scenario(x =>
            {
                x.Put.Json(new { slug, name = slug }).ToUrl($"/api/v1/organisations/{id}");
                x.WithBearerToken(AdminToken);
                x.StatusCodeShouldBe(201);
            });

        IdsOf(await ListAsync("?search=_")).ShouldBe(["a_b"]);
        IdsOf(await ListAsync("?search=%25")).ShouldBeEmpty();
    }

    [Fact]
    public async Task pages_follow_each_other_by_next_after_and_the_last_has_none()
    {
        foreach (var id in new[] { "org-1", "org-2", "org-3", "org-4", "org-5" })
            await RegisterAsync(id);

        var first = await ListAsync("?limit=2");
        IdsOf(first).ShouldBe(["org-1", "org-2"]);
        var second = await ListAsync($"?limit=2&after={(string)first["nextAfter"]!}");
        IdsOf(second).ShouldBe(["org-3", "org-4"]);
        var last = await ListAsync($"?limit=2&after={(string)second["nextAfter"]!}");
        IdsOf(last).ShouldBe(["org-5"]);
        last["nextAfter"].ShouldBeNull();
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=201", "limit")]
    [InlineData("?tier=Not%20a%20tier", "tier")]
    [InlineData("?after=%2Fnope", "after")]
    [InlineData("?search=%01", "search")]
    public async Task a_bad_query_is_a_400_that_names_its_field(string query, string field)
    {
        var problem = await GetProblemAsync($"/api/v1/organisations{query}", AdminToken, 400);

        problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe([field], ignoreOrder: false, customMessage: problem.ToJsonString());
    }

    [Fact]
    public async Task a_search_longer_than_200_characters_is_400()
    {
        var problem = await GetProblemAsync($"/api/v1/organisations?search={new string('a', 201)}", AdminToken, 400);

        problem["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["search"]);
    }

    [Fact]
    public async Task only_an_admin_lists_organisations()
    {
        await RegisterAsync("acme");

        await GetProblemAsync("/api/v1/organisations", TokenFor("acme"), 403);
        await GetProblemAsync("/api/v1/organisations", null, 401);
    }
}
