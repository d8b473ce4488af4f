using System.Text.Json.Nodes;
using Alba;
using Marten;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.ReadingHistory;

public sealed class when_reading_and_correcting_history(AppFixture app) : ApiTest(app)
{
    private async Task<JsonObject> TrackAtAsync(string orgId, string feature, long quantity, DateTimeOffset occurredAt, object? properties = null)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature, quantity, occurredAt, properties }).ToUrl($"/api/v1/usage/{orgId}/track");
            x.WithBearerToken(TokenFor(orgId));
        });
        return await BodyOf(result);
    }

    private async Task<JsonObject> GetAsync(string url, string? token = null)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url(url);
            x.WithBearerToken(token ?? AdminToken);
        });
        return await BodyOf(result);
    }

    private async Task<JsonObject> CorrectAsync(string orgId, object body, int status = 200)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(body).ToUrl($"/api/v1/usage/{orgId}/corrections");
            x.WithBearerToken(Mint("support-anna", null, Scopes.Admin));
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }

    private async Task<JsonObject> VoidAsync(string orgId, string eventId, int status = 200)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { reason = "test traffic" }).ToUrl($"/api/v1/usage/{orgId}/events/{eventId}/void");
            x.WithBearerToken(Mint("support-anna", null, Scopes.Admin));
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }

    private static List<JsonObject> EventsOf(JsonObject page) => [.. page["events"]!.AsArray().Select(e => e!.AsObject())];

    private static long SumOf(JsonObject history) => history["buckets"]!.AsArray().Sum(b => (long)b!["quantity"]!);

    private DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>
    /// These tests backdate events by hours into the period that starts today; in the first hours after midnight UTC
    /// those moments lie in the period before. The service's clock is moved past them (tokens keep the real one).
    /// </summary>
    private void AwayFromMidnight()
    {
        if (Now.UtcDateTime.Hour < 4)
            Clock.Advance(TimeSpan.FromHours(4));
    }

    [Fact]
    public async Task the_event_log_pages_newest_first_and_a_cursor_stays_correct_while_events_arrive()
    {
        await RegisterAsync("acme", "starter");
        var tracked = new List<string>();
        for (var i = 1; i <= 5; i++)
            tracked.Add((string)(await TrackAtAsync("acme", "AI_MESSAGES", i, Now.AddMinutes(-10 + i)))["eventId"]!);

        var first = await GetAsync("/api/v1/usage/acme/events?limit=2", TokenFor("acme"));
        EventsOf(first).Select(e => (string)e["eventId"]!).ShouldBe([tracked[4], tracked[3]]);
        var newest = EventsOf(first)[0];
        ((string)newest["type"]!, (string)newest["feature"]!, (long)newest["quantity"]!, (string)newest["orgId"]!).ShouldBe(("usage", "AI_MESSAGES", 5L, "acme"));

        // Events that arrive between pages land before the first page, so the next pages neither repeat nor skip.
        await TrackAsync("acme", "AI_MESSAGES", 100);
        await TrackAsync("acme", "AI_MESSAGES", 200);
        var second = await GetAsync($"/api/v1/usage/acme/events?limit=2&cursor={first["nextCursor"]}", TokenFor("acme"));
        var third = await GetAsync($"/api/v1/usage/acme/events?limit=2&cursor={second["nextCursor"]}", TokenFor("acme"));

        EventsOf(second).Select(e => (string)e["eventId"]!).ShouldBe([tracked[2], tracked[1]]);
        EventsOf(third).Select(e => (string)e["eventId"]!).ShouldBe([tracked[0]]);
        third["nextCursor"].ShouldBeNull();
    }

    [Fact]
    public async Task the_event_log_filters_by_feature_and_time()
    {
        AwayFromMidnight();
        await RegisterAsync("acme", "starter");
        await TrackAtAsync("acme", "AI_MESSAGES", 1, Now.AddHours(-3));
        var scan = await TrackAtAsync("acme", "DOCUMENT_SCANS", 2, Now.AddHours(-2));
        await TrackAtAsync("acme", "AI_MESSAGES", 3, Now.AddHours(-1));

        var scans = await GetAsync("/api/v1/usage/acme/events?feature=DOCUMENT_SCANS");
        var window = await GetAsync($"/api/v1/usage/acme/events?from={Uri.EscapeDataString(Now.AddHours(-2.5).ToString("O"))}&to={Uri.EscapeDataString(Now.AddHours(-1.5).ToString("O"))}");

        EventsOf(scans).Select(e => (string)e["eventId"]!).ShouldBe([(string)scan["eventId"]!]);
        EventsOf(window).Select(e => (long)e["quantity"]!).ShouldBe([2L]);
    }

    [Fact]
    public async Task history_buckets_add_up_to_the_counter_across_backdated_events_corrections_and_voids()
    {
        AwayFromMidnight();
        // The period starts today, so yesterday's events belong to the previous one.
        await RegisterAsync("acme", "starter", billingAnchorDay: Now.UtcDateTime.Day > 28 ? null : Now.UtcDateTime.Day);
        var anchorToday = Now.UtcDateTime.Day <= 28;
        var earlier = Now.AddHours(-2);
        await TrackAtAsync("acme", "AI_MESSAGES", 10, earlier, new { model = "large" });
        var voided = await TrackAtAsync("acme", "AI_MESSAGES", 7, Now.AddMinutes(-5), new { model = "small" });
        await TrackAtAsync("acme", "AI_MESSAGES", 4, Now.AddDays(-1), new { model = "large" });
        await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = -3, occurredAt = earlier, reason = "double count", idempotencyKey = "c-1" });
        await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = 20, occurredAt = Now.AddDays(-1), reason = "lost batch", idempotencyKey = "c-2" });
        await VoidAsync("acme", (string)voided["eventId"]!);

        var hours = await GetAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=hour");
        var days = await GetAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=day");
        var period = await GetAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=period");
        var used = await UsedAsync("acme", "AI_MESSAGES");

        used.ShouldBe(anchorToday ? 10 - 3 : 10 - 3 + 4 + 20);
        SumOf(hours).ShouldBe(used);
        SumOf(days).ShouldBe(used);
        period["buckets"]!.AsArray().Select(b => (long)b!["quantity"]!).ShouldBe([used]);

        // The previous period, backdated event and correction included, adds up to its own counter too.
        var all = await GetAsync($"/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=period&from={Uri.EscapeDataString(Now.AddDays(-2).ToString("O"))}");
        var counters = await CountersAsync("acme");
        all["buckets"]!.AsArray().Where(b => (long)b!["quantity"]! != 0)
            .Select(b => ((DateTimeOffset)b!["start"]!, (long)b["quantity"]!))
            .ShouldBe(counters.Where(c => c.Used != 0).Select(c => (c.PeriodStart!.Value, c.Used)), ignoreOrder: true);
    }

    private async Task<List<UsageCounter>> CountersAsync(string orgId)
    {
        await using var session = Store.QuerySession();
        return [.. await session.Query<UsageCounter>().Where(c => c.OrgId == orgId && c.Feature == "AI_MESSAGES").ToListAsync(Cancel)];
    }

    [Fact]
    public async Task an_event_in_the_last_instant_of_a_period_stays_in_that_periods_bucket()
    {
        // PostgreSQL keeps microseconds: 0.3 µs before midnight must not round into the next day's bucket.
        await RegisterAsync("acme");
        var midnight = new DateTimeOffset(Now.UtcDateTime.Date, TimeSpan.Zero);
        await TrackAtAsync("acme", "API_CALLS", 3, midnight.AddTicks(-3));
        var range = $"from={Uri.EscapeDataString(midnight.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(midnight.AddDays(1).ToString("O"))}";

        var days = await GetAsync($"/api/v1/usage/acme/history?feature=API_CALLS&granularity=period&{range}");
        var hours = await GetAsync($"/api/v1/usage/acme/history?feature=API_CALLS&granularity=hour&{range}");

        days["buckets"]!.AsArray().Select(b => ((DateTimeOffset)b!["start"]!, (long)b["quantity"]!)).ShouldBe([(midnight.AddDays(-1), 3L), (midnight, 0L)]);
        ((DateTimeOffset)hours["buckets"]!.AsArray().Single(b => (long)b!["quantity"]! != 0)!["start"]!).ShouldBe(midnight.AddHours(-1));
        var logged = EventsOf(await GetAsync($"/api/v1/usage/acme/events?feature=API_CALLS&{range}")).Single();
        ((DateTimeOffset)logged["occurredAt"]!).ShouldBeLessThan(midnight);
        ((DateTimeOffset)logged["periodEnd"]!).ShouldBe(midnight);
    }

    [Fact]
    public async Task history_groups_by_a_property_and_the_groups_add_up_to_the_bucket()
    {
        await RegisterAsync("acme", "starter");
        await TrackAtAsync("acme", "AI_MESSAGES", 5, Now.AddMinutes(-3), new { model = "large" });
        await TrackAtAsync("acme", "AI_MESSAGES", 2, Now.AddMinutes(-2), new { model = "small" });
        await TrackAtAsync("acme", "AI_MESSAGES", 1, Now.AddMinutes(-1));
        var voided = await TrackAtAsync("acme", "AI_MESSAGES", 4, Now.AddMinutes(-1), new { model = "small" });
        // A void takes its quantity off the group its event counted in.
        await VoidAsync("acme", (string)voided["eventId"]!);

        var history = await GetAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=period&groupBy=model");

        var bucket = history["buckets"]!.AsArray().Single()!;
        ((long)bucket["quantity"]!).ShouldBe(8);
        bucket["groups"]!.AsArray().Select(g => ((string?)g!["value"], (long)g["quantity"]!)).ShouldBe([("large", 5L), ("small", 2L), (null, 1L)]);
        ((string)history["groupBy"]!, (string)history["granularity"]!).ShouldBe(("model", "period"));
    }

    [Fact]
    public async Task a_correction_moves_the_counter_and_alerts_and_a_retry_counts_once()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 30);
        var body = new { feature = "AI_MESSAGES", quantity = 15, occurredAt = Now.AddMinutes(-1), reason = "Ticket 42: lost events", idempotencyKey = "ticket-42" };

        var first = await CorrectAsync("acme", body);
        var retry = await CorrectAsync("acme", body);

        ((long)first["used"]!, (long)first["limit"]!, (long)first["remaining"]!, (bool)first["duplicate"]!).ShouldBe((45L, 50L, 5L, false));
        ((string)retry["correctionId"]!, (bool)retry["duplicate"]!).ShouldBe(((string)first["correctionId"]!, true));
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(45);
        await using var session = Store.QuerySession();
        var crossed = await session.Events.QueryRawEventDataOnly<UsageThresholdCrossed>().ToListAsync(Cancel);
        crossed.Select(c => (c.Threshold, c.Used)).ShouldBe([(80, 45L)]);

        var log = EventsOf(await GetAsync("/api/v1/usage/acme/events"));
        var correction = log.Single(e => (string)e["type"]! == "correction");
        ((string)correction["eventId"]!, (string)correction["actor"]!, (string)correction["reason"]!, (string)correction["idempotencyKey"]!)
            .ShouldBe(((string)first["correctionId"]!, "support-anna", "Ticket 42: lost events", "ticket-42"));
    }

    [Fact]
    public async Task a_correction_never_takes_a_period_below_zero_and_a_reused_key_must_match()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 5);
        await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = -5, occurredAt = Now, reason = "all test traffic", idempotencyKey = "k-1" });
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var below = await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = -1, occurredAt = Now, reason = "one more", idempotencyKey = "k-2" }, 409);
        var reused = await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = 3, occurredAt = Now, reason = "other", idempotencyKey = "k-1" }, 409);

        ((string)below["detail"]!).ShouldContain("below 0");
        ((string)reused["detail"]!).ShouldContain("k-1");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    [Fact]
    public async Task a_void_cancels_an_event_once_and_the_log_shows_who_and_why()
    {
        await RegisterAsync("acme", "starter");
        await RegisterAsync("globex");
        var tracked = await TrackAsync("acme", "DOCUMENT_SCANS", 6);
        await TrackAsync("acme", "DOCUMENT_SCANS", 4);
        var eventId = (string)tracked["eventId"]!;

        var voided = await VoidAsync("acme", eventId);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var again = await VoidAsync("acme", eventId, 409);
        var ofCorrection = await VoidAsync("acme", (string)voided["correctionId"]!, 409);
        await VoidAsync("acme", Guid.NewGuid().ToString(), 404);
        await VoidAsync("globex", eventId, 404);

        ((long)voided["quantity"]!, (long)voided["used"]!, (string)voided["voids"]!).ShouldBe((-6L, 4L, eventId));
        ((string)again["detail"]!).ShouldContain("voided already");
        ((string)ofCorrection["detail"]!).ShouldContain("correction");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await UsedAsync("acme", "DOCUMENT_SCANS")).ShouldBe(4);
        var log = EventsOf(await GetAsync("/api/v1/usage/acme/events?feature=DOCUMENT_SCANS"));
        var original = log.Single(e => (string)e["eventId"]! == eventId);
        var correction = log.Single(e => (string)e["type"]! == "correction");
        ((string)original["voidedBy"]!).ShouldBe((string)voided["correctionId"]!);
        ((string)correction["voids"]!, (string)correction["actor"]!, (string)correction["reason"]!, (long)correction["quantity"]!)
            .ShouldBe((eventId, "support-anna", "test traffic", -6L));
        ((DateTimeOffset)correction["occurredAt"]!).ShouldBe((DateTimeOffset)original["occurredAt"]!);
    }

    [Fact]
    public async Task voiding_a_release_of_an_allocation_takes_it_back()
    {
        await RegisterAsync("acme", "starter");
        await TrackAsync("acme", "TEAM_MEMBERS", 3);
        var release = await TrackAsync("acme", "TEAM_MEMBERS", -1);

        var voided = await VoidAsync("acme", (string)release["eventId"]!);

        ((long)voided["quantity"]!, (long)voided["used"]!, voided["periodStart"]).ShouldBe((1L, 3L, null));
        (await UsedAsync("acme", "TEAM_MEMBERS")).ShouldBe(3);
    }

    [Fact]
    public async Task the_export_holds_every_organisations_events_and_corrections_as_the_event_log_shows_them()
    {
        await RegisterAsync("acme", "starter");
        await RegisterAsync("globex", "starter");
        var from = Now.AddMinutes(-1);
        await TrackAtAsync("acme", "AI_MESSAGES", 2, Now, new { model = "=cmd|' /C calc'!A0", note = "a, \"quoted\" one" });
        await TrackAsync("globex", "DOCUMENT_SCANS", 3);
        await CorrectAsync("acme", new { feature = "AI_MESSAGES", quantity = -1, occurredAt = Now, reason = "-1 for the retry, see \"ticket\"", idempotencyKey = "k" });
        var range = $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(Now.AddMinutes(1).ToString("O"))}";

        var ndjson = await Host.Scenario(x =>
        {
            x.Get.Url($"/api/v1/usage/export?{range}");
            x.WithBearerToken(AdminToken);
            x.ContentTypeShouldBe("application/x-ndjson");
        });
        var csv = await Host.Scenario(x =>
        {
            x.Get.Url($"/api/v1/usage/export?{range}&format=csv");
            x.WithBearerToken(AdminToken);
            x.ContentTypeShouldBe("text/csv; charset=utf-8");
        });

        var lines = (await ndjson.ReadAsTextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var logged = EventsOf(await GetAsync("/api/v1/usage/acme/events")).Concat(EventsOf(await GetAsync("/api/v1/usage/globex/events")));
        lines.Select(l => l.ToJsonString()).ShouldBe(logged.Select(e => e.ToJsonString()), ignoreOrder: true);
        lines.Select(l => (string)l["recordedAt"]!).ShouldBeInOrder();

        var rows = (await csv.ReadAsTextAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        rows[0].ShouldBe("eventId,type,orgId,feature,quantity,occurredAt,recordedAt,periodStart,periodEnd,idempotencyKey,reason,actor,voids,voidedBy,reservationId,properties");
        rows.Length.ShouldBe(4);
        rows.ShouldContain(row => row.Contains(",correction,acme,AI_MESSAGES,-1,") && row.Contains(",\"'-1 for the retry, see \"\"ticket\"\"\",support-anna,"));
        // The properties are one quoted field of JSON, whatever it holds; JSON text never starts like a formula.
        var usage = rows.Single(row => row.Contains(",usage,acme,AI_MESSAGES,2,"));
        var properties = usage[(usage.IndexOf(",\"{", StringComparison.Ordinal) + 2)..^1].Replace("\"\"", "\"");
        JsonNode.Parse(properties)!.AsObject().Select(p => (p.Key, (string)p.Value!))
            .ShouldBe([("model", "=cmd|' /C calc'!A0"), ("note", "a, \"quoted\" one")], ignoreOrder: true);
    }

    [Fact]
    public async Task reads_and_corrections_are_refused_clearly_and_change_nothing()
    {
        await RegisterAsync("acme", "starter");
        await RegisterAsync("globex");
        await TrackAsync("acme", "AI_MESSAGES", 3);
        var page = await GetAsync("/api/v1/usage/acme/events?limit=1");
        await TrackAsync("acme", "AI_MESSAGES", 3);
        var cursor = (string)(await GetAsync("/api/v1/usage/acme/events?limit=1"))["nextCursor"]!;
        var tampered = (cursor[0] == 'A' ? "B" : "A") + cursor[1..];
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var correction = new { feature = "AI_MESSAGES", quantity = 1, occurredAt = Now, reason = "r", idempotencyKey = "k" };

        (await GetProblemAsync($"/api/v1/usage/acme/events?cursor={tampered}", AdminToken, 400))["errors"]!["cursor"].ShouldNotBeNull();
        (await GetProblemAsync($"/api/v1/usage/acme/events?feature=AI_MESSAGES&cursor={cursor}", AdminToken, 400))["errors"]!["cursor"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/events?limit=1001", AdminToken, 400))["errors"]!["limit"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/events?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", AdminToken, 400))["errors"]!["to"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/history", AdminToken, 400))["errors"]!["feature"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=minute", AdminToken, 400))["errors"]!["granularity"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&granularity=hour&from=2020-01-01T00:00:00Z&to=2021-03-01T00:00:00Z", AdminToken, 400))
            ["errors"]!["granularity"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/history?feature=AI_MESSAGES&groupBy=modle", AdminToken, 400))["errors"]!["groupBy"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/acme/history?feature=NOT_A_FEATURE", AdminToken, 400))["errors"]!["feature"].ShouldNotBeNull();
        await GetProblemAsync("/api/v1/usage/nobody/history?feature=AI_MESSAGES", AdminToken, 404);
        await GetProblemAsync("/api/v1/usage/acme/events", TokenFor("globex"), 403);
        (await GetProblemAsync("/api/v1/usage/export?to=2026-12-01T00:00:00Z", AdminToken, 400))["errors"]!["from"].ShouldNotBeNull();
        (await GetProblemAsync("/api/v1/usage/export?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&format=xml", AdminToken, 400))["errors"]!["format"].ShouldNotBeNull();
        await GetProblemAsync("/api/v1/usage/export?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", TokenFor("acme"), 403);
        await SendRefusedAsync(x => x.Post.Json(correction).ToUrl("/api/v1/usage/acme/corrections"), TokenFor("acme"), 403);
        await SendRefusedAsync(x => x.Post.Json(correction).ToUrl("/api/v1/usage/nobody/corrections"), AdminToken, 404);
        await SendRefusedAsync(x => x.Post.Json(new { feature = "AI_MESSAGES", quantity = 1, occurredAt = Now, reason = "r" }).ToUrl("/api/v1/usage/acme/corrections"), AdminToken, 400);
        await SendRefusedAsync(x => x.Post.Json(new { feature = "AI_MESSAGES", quantity = 0, occurredAt = Now, reason = "r", idempotencyKey = "k" }).ToUrl("/api/v1/usage/acme/corrections"), AdminToken, 400);
        await SendRefusedAsync(x => x.Post.Json(new { feature = "API_ACCESS", quantity = 1, occurredAt = Now, reason = "r", idempotencyKey = "k" }).ToUrl("/api/v1/usage/acme/corrections"), AdminToken, 400);
        await SendRefusedAsync(x => x.Post.Json(new { feature = "AI_MESSAGES", quantity = 1, occurredAt = Now.AddDays(1), reason = "r", idempotencyKey = "k" }).ToUrl("/api/v1/usage/acme/corrections"), AdminToken, 400);
        await SendRefusedAsync(x => x.Post.Json(new { reason = "" }).ToUrl($"/api/v1/usage/acme/events/{(string)EventsOf(page)[0]["eventId"]!}/void"), AdminToken, 400);

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }
}
