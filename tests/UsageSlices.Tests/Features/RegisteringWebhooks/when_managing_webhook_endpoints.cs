using System.Text.Json.Nodes;
using Marten;
using Shouldly;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.RegisteringWebhooks;

public sealed class when_managing_webhook_endpoints(AppFixture app) : ApiTest(app)
{
    private const string Receiver = "http://127.0.0.1:9/hooks";

    [Fact]
    public async Task an_endpoint_is_created_with_a_secret_shown_once()
    {
        await RegisterAsync("acme");

        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { url = Receiver, eventTypes = new[] { "usage.threshold.crossed" }, orgId = "acme", description = "Upsell" }).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });

        var created = await BodyOf(result);
        var id = (string)created["id"]!;
        result.Context.Response.Headers.Location.ToString().ShouldBe($"/api/v1/webhooks/{id}");
        ((string)created["secret"]!).ShouldStartWith("whsec_");
        Convert.FromBase64String(((string)created["secret"]!)["whsec_".Length..]).Length.ShouldBe(24);
        ((string)created["url"]!).ShouldBe(Receiver);
        created["eventTypes"]!.AsArray().Select(t => (string)t!).ShouldBe(["usage.threshold.crossed"]);
        ((string)created["orgId"]!).ShouldBe("acme");
        ((bool)created["enabled"]!).ShouldBeTrue();
        var read = await GetAsync($"/api/v1/webhooks/{id}");
        read.ContainsKey("secret").ShouldBeFalse();
        ((string)read["description"]!).ShouldBe("Upsell");
        var listed = (await GetAsync("/api/v1/webhooks"))["webhooks"]!.AsArray().ShouldHaveSingleItem()!.AsObject();
        listed.ContainsKey("secret").ShouldBeFalse();
        await using var session = Store.QuerySession();
        (await session.LoadAsync<WebhookEndpoint>(Guid.Parse(id), Cancel))!.Secret.ShouldBe((string)created["secret"]!);
    }

    [Fact]
    public async Task rotating_replaces_the_secret()
    {
        var created = await CreateAsync(new { url = Receiver });

        var rotated = await BodyOf(await Host.Scenario(x =>
        {
            x.Post.Url($"/api/v1/webhooks/{created["id"]}/rotate-secret");
            x.WithBearerToken(AdminToken);
        }));

        ((string)rotated["secret"]!).ShouldStartWith("whsec_");
        ((string)rotated["secret"]!).ShouldNotBe((string)created["secret"]!);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<WebhookEndpoint>(Guid.Parse((string)created["id"]!), Cancel))!.Secret.ShouldBe((string)rotated["secret"]!);
    }

    [Fact]
    public async Task a_patch_changes_only_the_fields_it_names_and_null_clears()
    {
        await RegisterAsync("acme");
        var created = await CreateAsync(new { url = Receiver, orgId = "acme", description = "First", eventTypes = new[] { "webhook.test" } });
        var url = $"/api/v1/webhooks/{created["id"]}";

        var disabled = await PatchAsync(url, """{"enabled": false}""");
        ((bool)disabled["enabled"]!).ShouldBeFalse();
        ((string)disabled["orgId"]!).ShouldBe("acme");
        ((string)disabled["description"]!).ShouldBe("First");

        var widened = await PatchAsync(url, """{"orgId": null, "description": null, "eventTypes": [], "enabled": true, "url": "http://127.0.0.1:10/other"}""");
        widened["orgId"].ShouldBeNull();
        widened["description"].ShouldBeNull();
        widened["eventTypes"]!.AsArray().ShouldBeEmpty();
        ((bool)widened["enabled"]!).ShouldBeTrue();
        ((string)widened["url"]!).ShouldBe("http://127.0.0.1:10/other");
        ((string)(await GetAsync(url))["url"]!).ShouldBe("http://127.0.0.1:10/other");
    }

    [Fact]
    public async Task a_deleted_endpoint_is_gone()
    {
        var created = await CreateAsync(new { url = Receiver });
        var url = $"/api/v1/webhooks/{created["id"]}";

        await Host.Scenario(x => { x.Delete.Url(url); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(204); });

        await GetProblemAsync(url, AdminToken, 404);
        await ProblemOf(await Host.Scenario(x => { x.Delete.Url(url); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
        (await GetAsync("/api/v1/webhooks"))["webhooks"]!.AsArray().ShouldBeEmpty();
    }

    public static TheoryData<string, string> BadEndpoints => new()
    {
        { """{"url": "ftp://example.com/x"}""", "url" },
        { """{"url": "/relative"}""", "url" },
        { """{"url": "https://user:pass@example.com/x"}""", "url" },
        { "{\"url\": \"https://example.com/" + new string('x', 2_000) + "\"}", "url" },
        { "{}", "url" },
        { """{"url": "http://127.0.0.1:9/x", "eventTypes": ["usage.everything"]}""", "eventTypes" },
        { """{"url": "http://127.0.0.1:9/x", "eventTypes": ["webhook.test", "webhook.test"]}""", "eventTypes" },
        { """{"url": "http://127.0.0.1:9/x", "orgId": "has space"}""", "orgId" },
        { """{"url": "http://127.0.0.1:9/x", "description": "bell\u0007"}""", "description" },
        { """{"url": "http://127.0.0.1:9/x", "secret": "whsec_mine"}""", "" },
    };

    [Theory]
    [MemberData(nameof(BadEndpoints))]
    public async Task a_bad_endpoint_is_refused_and_changes_nothing(string body, string errorKey) =>
        await RawBodyIsRefusedAsync("POST", "/api/v1/webhooks", body, AdminToken, errorKey);

    [Fact]
    public async Task a_bad_patch_is_refused_and_changes_nothing()
    {
        var created = await CreateAsync(new { url = Receiver });
        var url = $"/api/v1/webhooks/{created["id"]}";

        foreach (var (body, key) in new[] { ("""{"orgId": 5}""", "orgId"), ("""{"description": true}""", "description"), ("""{"url": "ftp://x"}""", "url"), ("""{"eventTypes": ["nope"]}""", "eventTypes") })
        {
            var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
            var result = await Host.Scenario(x =>
            {
                x.Patch.Text(body).ToUrl(url);
                x.WithRequestHeader("Content-Type", "application/json");
                x.WithBearerToken(AdminToken);
                x.StatusCodeShouldBe(400);
            });
            ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe([key], body);
            (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        }
    }

    [Fact]
    public async Task an_unknown_organisation_or_endpoint_is_404_and_only_an_admin_may_manage_them()
    {
        await RegisterAsync("acme");
        var created = await CreateAsync(new { url = Receiver });
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var member = TokenFor("acme", Scopes.Read, Scopes.Write);

        await ProblemOf(await Host.Scenario(x => { x.Post.Json(new { url = Receiver, orgId = "ghost" }).ToUrl("/api/v1/webhooks"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
        await ProblemOf(await Host.Scenario(x => { x.Patch.Json(new { orgId = "ghost" }).ToUrl($"/api/v1/webhooks/{created["id"]}"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
        await ProblemOf(await Host.Scenario(x => { x.Patch.Json(new { enabled = false }).ToUrl($"/api/v1/webhooks/{Guid.NewGuid()}"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
        await ProblemOf(await Host.Scenario(x => { x.Post.Url($"/api/v1/webhooks/{Guid.NewGuid()}/rotate-secret"); x.WithBearerToken(AdminToken); x.StatusCodeShouldBe(404); }), 404);
        await ProblemOf(await Host.Scenario(x => { x.Post.Json(new { url = Receiver }).ToUrl("/api/v1/webhooks"); x.WithBearerToken(member); x.StatusCodeShouldBe(403); }), 403);
        await ProblemOf(await Host.Scenario(x => { x.Get.Url("/api/v1/webhooks"); x.WithBearerToken(member); x.StatusCodeShouldBe(403); }), 403);
        await ProblemOf(await Host.Scenario(x => { x.Delete.Url($"/api/v1/webhooks/{created["id"]}"); x.WithBearerToken(member); x.StatusCodeShouldBe(403); }), 403);
        await Host.Scenario(x => { x.Get.Url("/api/v1/webhooks"); x.StatusCodeShouldBe(401); });

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    [Fact]
    public async Task without_private_networks_loopback_private_link_local_and_plain_http_are_refused()
    {
        await using var strict = await AppFixture.StartHostAsync(new Dictionary<string, string> { ["Webhooks:AllowPrivateNetworks"] = "false" });
        string[] refused =
        [
            "https://127.0.0.1/hooks", "https://localhost/hooks", "https://[::1]/hooks", "https://10.1.2.3/hooks", "https://172.20.0.5/hooks",
            "https://192.168.1.10/hooks", "https://169.254.169.254/latest/meta-data", "https://[fd00:ec2::254]/hooks", "https://[::ffff:127.0.0.1]/hooks",
            "https://0.0.0.0/hooks", "https://100.64.0.1/hooks", "http://93.184.215.14/hooks",
        ];

        foreach (var url in refused)
        {
            var result = await strict.Scenario(x =>
            {
                x.Post.Json(new { url }).ToUrl("/api/v1/webhooks");
                x.WithBearerToken(AdminToken);
                x.StatusCodeShouldBe(400);
            });
            ErrorKeysOf(await ProblemOf(result, 400)).ShouldBe(["url"], url);
        }

        await strict.Scenario(x =>
        {
            x.Post.Json(new { url = "https://93.184.215.14/hooks" }).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });
        await using var session = Store.QuerySession();
        (await session.Query<WebhookEndpoint>().Select(e => e.Url).ToListAsync(Cancel)).ShouldBe(["https://93.184.215.14/hooks"]);
    }

    private async Task<JsonObject> CreateAsync(object body) =>
        await BodyOf(await Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl("/api/v1/webhooks");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        }));

    private async Task<JsonObject> GetAsync(string url) =>
        await BodyOf(await Host.Scenario(x => { x.Get.Url(url); x.WithBearerToken(AdminToken); }));

    private async Task<JsonObject> PatchAsync(string url, string body) =>
        await BodyOf(await Host.Scenario(x =>
        {
            x.Patch.Text(body).ToUrl(url);
            x.WithRequestHeader("Content-Type", "application/json");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(200);
        }));
}
