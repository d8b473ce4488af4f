using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Shouldly;
using UsageSlices.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace UsageSlices.Tests.Dashboard;

/// <summary>The dashboard at /admin/ in Debian's Chromium, against the service as its own process.</summary>
[Collection(nameof(AppCollection))]
public sealed class when_an_operator_uses_the_dashboard(DashboardFixture fixture) : IClassFixture<DashboardFixture>, IAsyncLifetime
{
    private IBrowserContext context = null!;
    private IPage page = null!;
    private readonly HttpClient http = new() { BaseAddress = fixture.Service.BaseAddress };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private string Admin => fixture.AdminToken;

    public async ValueTask InitializeAsync()
    {
        context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        page = await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await context.DisposeAsync();
        http.Dispose();
    }

    private string Url(string path) => new Uri(fixture.Service.BaseAddress, path).ToString();

    private async Task<JsonElement> ApiAsync(HttpMethod method, string path, object? body = null)
    {
        using var response = await ServiceProcess.SendAsync(http, method, path, Admin, body);
        response.IsSuccessStatusCode.ShouldBeTrue($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Cancel)}");
        return response.Content.Headers.ContentLength == 0 ? default : await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    private async Task<string> RegisterAsync(string name, string tier = "free")
    {
        var orgId = $"{name}-{Guid.NewGuid():N}"[..24];
        await ApiAsync(HttpMethod.Put, $"/api/v1/organisations/{orgId}", new { slug = orgId, name, tier });
        return orgId;
    }

    private Task TrackAsync(string orgId, string feature, long quantity) =>
        ApiAsync(HttpMethod.Post, $"/api/v1/usage/{orgId}/track", new { feature, quantity });

    private async Task<JsonElement> LimitOfAsync(string orgId, string feature) =>
        (await ApiAsync(HttpMethod.Get, $"/api/v1/usage/{orgId}/limits")).GetProperty("features").EnumerateArray()
            .Single(f => f.GetProperty("feature").GetString() == feature);

    private async Task SignInAsync(string? token = null)
    {
        await page.GotoAsync(Url("/admin/"));
        await page.GetByLabel("Admin token").FillAsync(token ?? Admin);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    private ILocator Heading(string name) => page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 });

    /// <summary>Both widths the design names, into artifacts/screenshots (docs/ keeps one of each).</summary>
    private async Task ScreenshotsAsync(string name, bool fullPage = true)
    {
        Directory.CreateDirectory(DashboardFixture.Screenshots);
        foreach (var width in new[] { 1280, 390 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardFixture.Screenshots, $"{name}-{width}.png"), FullPage = fullPage });
        }
        await page.SetViewportSizeAsync(1280, 900);
    }

    [Fact]
    public async Task an_admin_token_signs_in_to_the_overview_and_signing_out_forgets_it()
    {
        var orgId = await RegisterAsync("overview");
        await TrackAsync(orgId, "AI_MESSAGES", 3);

        await SignInAsync();

        await Expect(Heading("Overview")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new("^Usage events per hour") })).ToBeVisibleAsync();
        var hourly = (await ApiAsync(HttpMethod.Get, "/api/v1/usage/stats")).GetProperty("eventsLast24Hours").GetInt64();
        await Expect(page.Locator(".figures div").Filter(new() { HasText = "Events in the last 24 hours" }).Locator("dd"))
            .ToHaveTextAsync(hourly.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await ScreenshotsAsync("overview");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("You are signed out.");
        (await page.EvaluateAsync<int>("sessionStorage.length")).ShouldBe(0);
    }

    [Fact]
    public async Task the_dashboard_commands_link_signs_in_and_its_token_stays_out_of_the_address_and_the_log()
    {
        var (exitCode, output) = await fixture.Service.RunCommandAsync("Production", "dashboard", "--url", fixture.Service.BaseAddress.ToString(), "--minutes", "5");
        exitCode.ShouldBe(0, output);
        var link = output.Split('\n').Select(l => l.Trim()).Last(l => l.Length > 0);
        link.ShouldStartWith(Url("/admin/#token="));
        var token = link[(link.IndexOf("#token=", StringComparison.Ordinal) + "#token=".Length)..];

        await page.GotoAsync(link);

        await Expect(Heading("Overview")).ToBeVisibleAsync();
        page.Url.ShouldNotContain("token");
        (await page.EvaluateAsync<string>("history.length.toString() + location.href")).ShouldNotContain("token");
        fixture.Service.Transcript.ShouldNotContain(token);
    }

    [Fact]
    public async Task a_refused_token_an_expired_one_and_a_non_admin_one_each_say_why_at_sign_in()
    {
        await SignInAsync("not-a-token");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token was refused: it is expired, or not signed for this service.");

        var orgId = await RegisterAsync("member");
        await SignInAsync(fixture.Service.Tokens.Mint("member", orgId, [Scopes.Read], TimeSpan.FromHours(1)));
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token is not an admin token (it needs the usage:admin scope).");

        // A token that expires while the dashboard is open sends the operator back to sign in, with the reason.
        await SignInAsync(fixture.Service.Tokens.Mint("operator", null, [Scopes.Admin], TimeSpan.FromSeconds(3)));
        await Expect(Heading("Overview")).ToBeVisibleAsync();
        await Expect(Heading("Sign in")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your session has expired. Sign in again.");
    }

    [Fact]
    public async Task an_organisation_is_found_by_search_and_its_bar_moves_after_a_track()
    {
        var orgId = await RegisterAsync("findme");
        await RegisterAsync("other");
        await SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Organisations" }).ClickAsync();
        await Expect(Heading("Organisations")).ToBeVisibleAsync();

        await page.GetByLabel("Search by id, slug or name").FillAsync(orgId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var results = page.Locator(".organisations > li");
        await Expect(results).ToHaveCountAsync(1);
        await Expect(results.GetByRole(AriaRole.Link)).ToHaveTextAsync("findme");
        var bar = results.Locator("meter[data-feature=AI_MESSAGES]");
        await Expect(bar).ToHaveAttributeAsync("value", "0");
        await ScreenshotsAsync("organisations");

        await TrackAsync(orgId, "AI_MESSAGES", 20);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.ReloadAsync();

        await Expect(bar).ToHaveAttributeAsync("value", "20");
        await Expect(bar).ToHaveAttributeAsync("aria-label", "AI_MESSAGES: 20 of 50");
    }

    [Fact]
    public async Task a_tier_is_assigned_and_an_override_granted_and_revoked_from_the_organisation_page()
    {
        var orgId = await RegisterAsync("support");
        await SignInAsync();
        await page.GotoAsync(Url($"/admin/#/organisations/{orgId}"));
        await Expect(Heading("support")).ToBeVisibleAsync();

        var assign = page.Locator("#assign-tier + form");
        await assign.GetByLabel("Tier").SelectOptionAsync("starter");
        await assign.GetByLabel("Reason").FillAsync("Upgraded by phone");
        await page.GetByRole(AriaRole.Button, new() { Name = "Assign tier" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Moved to starter from free.");
        (await ApiAsync(HttpMethod.Get, $"/api/v1/organisations/{orgId}")).GetProperty("tier").GetString().ShouldBe("starter");

        var grant = page.Locator("#grant-override + form");
        await grant.GetByLabel("Feature").SelectOptionAsync("AI_MESSAGES");
        await grant.GetByLabel("Limit").FillAsync("2000");
        await grant.GetByLabel("Reason").FillAsync("Launch month");
        await grant.GetByRole(AriaRole.Button, new() { Name = "Grant override" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Override granted: AI_MESSAGES limit 2000.");
        var row = page.Locator("#limits ~ .scroll table tbody tr").Filter(new() { HasText = "AI_MESSAGES" });
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("2,000");
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("override");
        var limit = await LimitOfAsync(orgId, "AI_MESSAGES");
        (limit.GetProperty("limit").GetInt64(), limit.GetProperty("source").GetString()).ShouldBe((2000L, "override"));
        await ScreenshotsAsync("organisation");

        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke the override of AI_MESSAGES" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Override of AI_MESSAGES revoked: the tier's limit applies again.");
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("1,000");
        (await LimitOfAsync(orgId, "AI_MESSAGES")).GetProperty("source").GetString().ShouldBe("tier");
    }

    [Fact]
    public async Task a_correction_recorded_on_the_organisation_page_moves_its_usage()
    {
        var orgId = await RegisterAsync("corrected");
        await TrackAsync(orgId, "DOCUMENT_SCANS", 7);
        await SignInAsync();
        await page.GotoAsync(Url($"/admin/#/organisations/{orgId}"));

        var form = page.Locator("#correction + form");
        await form.GetByLabel("Feature").SelectOptionAsync("DOCUMENT_SCANS");
        await form.GetByLabel("Quantity").FillAsync("-2");
        await form.GetByLabel("Reason").FillAsync("Ticket 4711: counted twice");
        await form.GetByRole(AriaRole.Button, new() { Name = "Record correction" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).Or(form.GetByRole(AriaRole.Alert).Filter(new() { HasText = "refused" }))).ToHaveTextAsync("Correction recorded: DOCUMENT_SCANS is now at 5.");
        (await LimitOfAsync(orgId, "DOCUMENT_SCANS")).GetProperty("used").GetInt64().ShouldBe(5);
        await Expect(page.Locator("#events ~ .scroll table tbody tr").First).ToContainTextAsync("Ticket 4711: counted twice");
    }

    [Fact]
    public async Task a_bad_tier_edit_shows_the_apis_validation_message_and_changes_nothing()
    {
        await SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Tiers" }).ClickAsync();
        await Expect(Heading("Tiers")).ToBeVisibleAsync();
        await ScreenshotsAsync("tiers");

        await page.GetByLabel("AI_MESSAGES limit of Free").FillAsync("-5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save Free" }).ClickAsync();

        var errors = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "The service refused this" });
        await Expect(errors).ToContainTextAsync("AI_MESSAGES");
        var free = await ApiAsync(HttpMethod.Get, "/api/v1/tiers/free");
        free.GetProperty("limits").GetProperty("AI_MESSAGES").GetInt64().ShouldBe(50);
    }

    [Fact]
    public async Task a_tier_is_assigned_with_the_keyboard_alone_and_the_focus_is_always_visible()
    {
        var orgId = await RegisterAsync("keyboard");
        await SignInAsync();
        await page.GotoAsync(Url($"/admin/#/organisations/{orgId}"));
        await Expect(Heading("keyboard")).ToBeVisibleAsync();

        var select = page.Locator("#assign-tier + form select");
        for (var presses = 0; presses < 40 && !await select.EvaluateAsync<bool>("e => e === document.activeElement"); presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            (await FocusIsVisibleAsync()).ShouldBeTrue("the focused element shows no focus ring");
        }
        await Expect(select).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("By keyboard");
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Assign tier" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Moved to starter from free.");
        (await ApiAsync(HttpMethod.Get, $"/api/v1/organisations/{orgId}")).GetProperty("tier").GetString().ShouldBe("starter");
    }

    /// <summary>Whether the focused element draws an outline (the style sheet's :focus-visible ring).</summary>
    private Task<bool> FocusIsVisibleAsync() =>
        page.EvaluateAsync<bool>("() => { const e = document.activeElement; return !e || e === document.body || getComputedStyle(e).outlineStyle !== 'none'; }");

    [Theory]
    [InlineData("#/")]
    [InlineData("#/organisations")]
    [InlineData("#/organisations/{org}")]
    [InlineData("#/tiers")]
    [InlineData("#/webhooks")]
    public async Task every_page_passes_axes_checks_with_labelled_controls_and_headings_in_order(string route)
    {
        var orgId = await RegisterAsync("axe");
        await TrackAsync(orgId, "AI_MESSAGES", 4);
        var path = route.Replace("{org}", orgId);
        if (route == "#/webhooks")
        {
            // Checked with an endpoint chosen: the page shows its forms only then.
            var webhook = await ApiAsync(HttpMethod.Post, "/api/v1/webhooks", new { url = "http://127.0.0.1:9/axe", eventTypes = new[] { "webhook.test" } });
            path += $"?id={webhook.GetProperty("id").GetString()}";
        }

        await SignInAsync();
        await page.GotoAsync(Url($"/admin/{path}"));
        await Expect(page.Locator("main h1")).ToBeVisibleAsync();
        await Expect(page.Locator("main[aria-busy]")).ToHaveCountAsync(0);

        var results = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        });

        // Nothing left out of a page shows as a word, and nothing is wider than a phone's screen.
        var text = await page.Locator("main").InnerTextAsync();
        text.ShouldNotContain("null");
        text.ShouldNotContain("undefined");
        await page.SetViewportSizeAsync(390, 900);
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(390);
        await page.SetViewportSizeAsync(1280, 900);
        results.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))})").ShouldBeEmpty();
        var levels = await page.EvaluateAsync<int[]>("[...document.querySelectorAll('h1,h2,h3,h4')].map(h => +h.tagName[1])");
        levels[0].ShouldBe(1);
        levels.Zip(levels.Skip(1)).ShouldAllBe(pair => pair.Second <= pair.First + 1);
    }

    [Fact]
    public async Task the_api_page_groups_its_operations_by_area_and_needs_nothing_beyond_the_service()
    {
        // Any request that leaves the service is refused and remembered: the page must work offline.
        var elsewhere = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await context.RouteAsync("**/*", async route =>
        {
            if (new Uri(route.Request.Url).Authority == fixture.Service.BaseAddress.Authority)
                await route.ContinueAsync();
            else
            {
                elsewhere.Enqueue(route.Request.Url);
                await route.AbortAsync();
            }
        });

        await page.GotoAsync(Url("/docs/"));

        var sidebar = page.Locator("aside, nav").Filter(new() { HasText = "Reservations" }).First;
        foreach (var area in new[] { "Organisations", "Usage", "Reservations", "Tiers", "Webhooks", "Operations" })
            await Expect(sidebar.GetByText(area, new() { Exact = true }).First).ToBeVisibleAsync();
        // Operations are named in words in the sidebar (the first area is open).
        await Expect(sidebar.GetByText("Register organisation", new() { Exact = true }).First).ToBeVisibleAsync();
        foreach (var cloud in new[] { "Ask AI", "Deploy", "Generate SDK", "Generate SDKs" })
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = cloud, Exact = true })).ToHaveCountAsync(0);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        elsewhere.ShouldBeEmpty();
        // The page is as long as the whole API: the screenshots show its first screen.
        await ScreenshotsAsync("api-page", fullPage: false);
    }

    [Fact]
    public async Task a_failed_webhook_delivery_is_seen_with_its_answer_and_sent_again_from_the_webhooks_page()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.AnswerWith(500);
        var webhook = await ApiAsync(HttpMethod.Post, "/api/v1/webhooks", new { url = receiver.Url, eventTypes = new[] { "webhook.test" } });
        var id = webhook.GetProperty("id").GetString()!;
        await ApiAsync(HttpMethod.Post, $"/api/v1/webhooks/{id}/test");
        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 1, "the test event never reached the receiver");

        await SignInAsync();
        await page.GotoAsync(Url($"/admin/#/webhooks?id={id}"));
        await Expect(Heading("Webhooks")).ToBeVisibleAsync();
        var delivery = page.Locator("#deliveries ~ .scroll table tbody tr").Filter(new() { HasText = "webhook.test" });
        await Expect(delivery.Locator("td").Nth(0)).ToHaveTextAsync("pending");
        await Expect(delivery.Locator("td").Nth(2)).ToContainTextAsync("500 in ");
        await ScreenshotsAsync("webhooks");

        await delivery.GetByRole(AriaRole.Button, new() { NameRegex = new("^Retry the webhook.test delivery") }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The webhook.test delivery is being sent again.");
        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 2, "the retry never reached the receiver");
        receiver.Received[1].Id.ShouldBe(receiver.Received[0].Id);
        await Eventually.WaitUntilAsync(async () =>
        {
            var deliveries = await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}/deliveries");
            return deliveries.GetProperty("deliveries")[0].GetProperty("status").GetString() == "delivered";
        }, "the retried delivery was never recorded as delivered");
        await page.ReloadAsync();
        await Expect(delivery.Locator("td").Nth(0)).ToHaveTextAsync("delivered");
    }

    [Fact]
    public async Task an_endpoint_registered_on_the_webhooks_page_gets_the_test_event_sent_from_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        await Expect(Heading("Webhooks")).ToBeVisibleAsync();

        var register = page.Locator("#register + form");
        await register.GetByLabel("Address").FillAsync(receiver.Url.ToString());
        await register.GetByLabel("Event types").FillAsync("webhook.test, not.an.event");
        await register.GetByRole(AriaRole.Button, new() { Name = "Register endpoint" }).ClickAsync();
        // The API's refusal is shown, and nothing is registered.
        await Expect(register.GetByRole(AriaRole.Alert)).ToContainTextAsync("eventTypes");
        (await ApiAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("webhooks").EnumerateArray()
            .ShouldNotContain(w => w.GetProperty("url").GetString() == receiver.Url.ToString());

        await register.GetByLabel("Event types").FillAsync("webhook.test");
        await register.GetByLabel("Description").FillAsync("Registered in the dashboard");
        await register.GetByRole(AriaRole.Button, new() { Name = "Register endpoint" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Its signing secret, shown this once: whsec_");
        var registered = (await ApiAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("webhooks").EnumerateArray()
            .Single(w => w.GetProperty("url").GetString() == receiver.Url.ToString());
        registered.GetProperty("description").GetString().ShouldBe("Registered in the dashboard");

        await page.GotoAsync(Url($"/admin/#/webhooks?id={registered.GetProperty("id").GetString()}"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test event" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("A webhook.test event is on its way to this endpoint.");
        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 1, "the test event never reached the receiver");
        receiver.Received[0].Body.ShouldContain("\"type\":\"webhook.test\"");
    }

    [Fact]
    public async Task the_chosen_endpoint_is_changed_disabled_given_a_new_secret_and_deleted_on_the_webhooks_page()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var webhook = await ApiAsync(HttpMethod.Post, "/api/v1/webhooks", new { url = receiver.Url, eventTypes = new[] { "webhook.test" } });
        var id = webhook.GetProperty("id").GetString()!;
        var firstSecret = webhook.GetProperty("secret").GetString()!;
        await SignInAsync();
        await page.GotoAsync(Url($"/admin/#/webhooks?id={id}"));
        var change = page.GetByRole(AriaRole.Form, new() { Name = "Change this endpoint" });
        await Expect(change.GetByLabel("Address")).ToHaveValueAsync(receiver.Url.ToString());
        await Expect(change.GetByLabel("Event types")).ToHaveValueAsync("webhook.test");

        // A refused change is shown in its form and changes nothing.
        await change.GetByLabel("Event types").FillAsync("webhook.test, no.such.event");
        await change.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(change.GetByRole(AriaRole.Alert)).ToContainTextAsync("eventTypes");
        var unchanged = await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}");
        unchanged.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()).ShouldBe(["webhook.test"]);

        await change.GetByLabel("Event types").FillAsync("webhook.test, usage.threshold.crossed");
        await change.GetByLabel("Description").FillAsync("Billing alerts");
        await change.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Endpoint changed.");
        var changed = await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}");
        changed.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()).ShouldBe(["webhook.test", "usage.threshold.crossed"]);
        changed.GetProperty("description").GetString().ShouldBe("Billing alerts");
        changed.GetProperty("url").GetString().ShouldBe(receiver.Url.ToString());

        await page.GetByRole(AriaRole.Button, new() { Name = "Disable endpoint" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Endpoint disabled: no event is sent to it until it is enabled again.");
        (await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}")).GetProperty("enabled").GetBoolean().ShouldBeFalse();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = receiver.Url.ToString() })).ToContainTextAsync("disabled: by an admin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enable endpoint" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Endpoint enabled.");
        (await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}")).GetProperty("enabled").GetBoolean().ShouldBeTrue();

        // The new secret is shown once, and the next delivery is signed with it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate signing secret" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("It is shown this once: whsec_");
        var shown = await page.GetByRole(AriaRole.Status).TextContentAsync();
        var secret = shown.ShouldNotBeNull()[(shown.IndexOf("whsec_", StringComparison.Ordinal))..];
        secret.ShouldNotBe(firstSecret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test event" }).ClickAsync();
        await Eventually.WaitUntilAsync(() => receiver.Received.Count == 1, "the test event never reached the receiver");
        var got = receiver.Received[0];
        var expected = Convert.ToBase64String(HMACSHA256.HashData(
            Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{got.Id}.{got.Timestamp}.{got.Body}")));
        got.Signature.ShouldBe($"v1,{expected}");

        // Deleting asks for the box to be ticked first.
        var delete = page.GetByRole(AriaRole.Button, new() { Name = "Delete endpoint" });
        await delete.ClickAsync();
        await Expect(page.Locator("input[name=confirm]:invalid")).ToHaveCountAsync(1);
        (await ApiAsync(HttpMethod.Get, $"/api/v1/webhooks/{id}")).GetProperty("id").GetString().ShouldBe(id);
        await page.GetByLabel("I mean to delete this endpoint").CheckAsync();
        await delete.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"The endpoint {receiver.Url} is deleted.");
        page.Url.ShouldEndWith("/admin/#/webhooks");
        (await ApiAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("webhooks").EnumerateArray()
            .ShouldNotContain(w => w.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task a_page_that_answers_late_does_not_replace_the_page_navigated_to_since()
    {
        // The overview's figures are held back until the operator has moved on to the tiers.
        var released = new TaskCompletionSource();
        var statsCalls = 0;
        await context.RouteAsync("**/api/v1/usage/stats", async route =>
        {
            // The first call is the sign-in's check of the token; the second is the overview's.
            if (Interlocked.Increment(ref statsCalls) == 2)
                await released.Task;
            await route.ContinueAsync();
        });
        await SignInAsync();
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref statsCalls) == 2, "the overview never asked for its figures");

        await page.GotoAsync(Url("/admin/#/tiers"));
        await Expect(Heading("Tiers")).ToBeVisibleAsync();
        var lateAnswer = page.WaitForResponseAsync(response => response.Url.EndsWith("/api/v1/usage/stats", StringComparison.Ordinal));
        released.SetResult();
        await lateAnswer;
        // Whatever the late answer's page did has run once the page's tasks queued before this one have.
        await page.EvaluateAsync("() => new Promise(resolve => setTimeout(resolve, 0))");

        await Expect(Heading("Tiers")).ToBeVisibleAsync();
        await Expect(Heading("Overview")).ToHaveCountAsync(0);
    }
}
