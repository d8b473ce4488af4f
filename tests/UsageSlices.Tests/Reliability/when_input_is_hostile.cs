using System.Text;
using Shouldly;
using UsageSlices.Features.ListingUsageEvents;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>One malformed or unauthorised request; <see cref="Token"/> says who sends it.</summary>
public sealed record HostileRequest(string Name, string Method, string Url, string? Body, string Token = "acme", string ContentType = "application/json")
{
    public override string ToString() => Name;
}

public sealed class when_input_is_hostile(AppFixture app) : ApiTest(app)
{
    private const string ValidTrack = """{"feature":"AI_MESSAGES","quantity":1}""";
    private const string ValidRegister = """{"slug":"new-org","name":"New"}""";
    private const string ValidOverride = """{"limit":500}""";
    private const string ValidReserve = """{"feature":"AI_MESSAGES","quantity":1}""";
    private const string SomeReservation = "/api/v1/usage/acme/reservations/0190a7d8-0000-7000-8000-000000000000";
    private const string ValidWebhook = """{"url":"http://127.0.0.1:9/hooks"}""";
    private const string SomeWebhook = "/api/v1/webhooks/0190a7d8-0000-7000-8000-000000000000";
    private const string ValidCorrection = """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""";
    private const string SomeEvent = "/api/v1/usage/acme/events/0190a7d8-0000-7000-8000-000000000000";
    private const string SomeRange = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";

    public static TheoryData<HostileRequest> Requests()
    {
        var requests = new List<HostileRequest>();

        string[] badIds = ["has%20space", "%C3%BCber", "a%01b", "a%0D%0Ab", new string('x', 65), "-leading", ".leading", "a:b", "%27%20OR%201%3D1%20--", "%3Cscript%3E", "%F0%9F%98%80", "a%09b"];
        foreach (var id in badIds)
        {
            requests.Add(new($"register id {id}", "PUT", $"/api/v1/organisations/{id}", ValidRegister, "admin"));
            requests.Add(new($"get organisation id {id}", "GET", $"/api/v1/organisations/{id}", null, "admin"));
            requests.Add(new($"track id {id}", "POST", $"/api/v1/usage/{id}/track", ValidTrack, "admin"));
            requests.Add(new($"check id {id}", "GET", $"/api/v1/usage/{id}/check/AI_MESSAGES", null, "admin"));
            requests.Add(new($"limits id {id}", "GET", $"/api/v1/usage/{id}/limits", null, "admin"));
            requests.Add(new($"assign tier id {id}", "PUT", $"/api/v1/usage/{id}/tier", """{"tier":"pro"}""", "admin"));
            requests.Add(new($"grant override id {id}", "PUT", $"/api/v1/organisations/{id}/overrides/AI_MESSAGES", ValidOverride, "admin"));
            requests.Add(new($"list overrides id {id}", "GET", $"/api/v1/organisations/{id}/overrides", null, "admin"));
            requests.Add(new($"reserve id {id}", "POST", $"/api/v1/usage/{id}/reservations", ValidReserve, "admin"));
            requests.Add(new($"list reservations id {id}", "GET", $"/api/v1/usage/{id}/reservations", null, "admin"));
            requests.Add(new($"list events id {id}", "GET", $"/api/v1/usage/{id}/events", null, "admin"));
            requests.Add(new($"history id {id}", "GET", $"/api/v1/usage/{id}/history?feature=AI_MESSAGES", null, "admin"));
            requests.Add(new($"correct id {id}", "POST", $"/api/v1/usage/{id}/corrections", ValidCorrection, "admin"));
        }

        string[] badTracks =
        [
            "not json", "[]", "null", "\"AI_MESSAGES\"", "{}", """{"feature":"AI_MESSAGES","quantity":"1"}""",
            """{"feature":"AI_MESSAGES","quantity":1.5}""", """{"feature":"AI_MESSAGES","quantity":1e40}""",
            """{"feature":"AI_MESSAGES","quantity":9223372036854775808}""", """{"feature":"AI_MESSAGES","quantity":-9223372036854775809}""",
            """{"feature":"AI_MESSAGES","quantity":0}""", """{"feature":"AI_MESSAGES","quantity":-1}""", """{"feature":42}""",
            """{"feature":"ai_messages"}""", "{\"feature\":\"" + new string('A', 200) + "\"}", """{"feature":"AI_MESSAGES","tier":"business"}""",
            """{"feature":"AI_MESSAGES","used":0}""", """{"feature":"AI_MESSAGES","properties":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}}""",
            """{"feature":"AI_MESSAGES","properties":{"k":1}}""", """{"feature":"AI_MESSAGES","properties":{"":"v"}}""",
            """{"feature":"AI_MESSAGES","properties":{"k":"bell\u0007"}}""", "{\"feature\":\"AI_MESSAGES\",\"properties\":{\"k\":\"" + new string('v', 257) + "\"}}",
            """{"feature":"AI_MESSAGES","occurredAt":"yesterday"}""", """{"feature":"AI_MESSAGES","occurredAt":"1900-01-01T00:00:00Z"}""",
            """{"feature":"AI_MESSAGES","occurredAt":"2999-01-01T00:00:00Z"}""", "{\"feature\":\"AI_MESSAGES\",\"idempotencyKey\":\"" + new string('k', 256) + "\"}",
            """{"feature":"AI_MESSAGES","idempotencyKey":"line\nbreak"}""", """{"feature":"AI_MESSAGES","idempotencyKey":"caf\u00e9"}""",
            """{"feature":"AI_MESSAGES","enforce":"yes"}""", """{"feature":"AI_MESSAGES","quantity":1""", """{"feature":"API_ACCESS"}""",
            """{"feature":"NO_SUCH_FEATURE"}""", """{"feature":"TEAM_MEMBERS","quantity":-5}""", """{"feature":"AI_MESSAGES","feature":"AI_MESSAGES","__proto__":{}}""",
        ];
        requests.AddRange(badTracks.Select((body, i) => new HostileRequest($"track body {i}: {Shorten(body)}", "POST", "/api/v1/usage/acme/track", body)));
        requests.Add(new("track as text/plain", "POST", "/api/v1/usage/acme/track", ValidTrack, ContentType: "text/plain"));
        requests.Add(new("track with a read-only token", "POST", "/api/v1/usage/acme/track", ValidTrack, "acme-read"));
        requests.Add(new("track with another organisation's token", "POST", "/api/v1/usage/acme/track", ValidTrack, "rival"));
        requests.Add(new("track async with enforce", "POST", "/api/v1/usage/acme/track", """{"feature":"AI_MESSAGES","enforce":true}""", "acme-async"));

        string[] badRegistrations =
        [
            """{"slug":"New Org","name":"N"}""", """{"slug":"UPPER","name":"N"}""", """{"slug":"ok","name":""}""",
            "{\"slug\":\"ok\",\"name\":\"" + new string('n', 201) + "\"}", """{"slug":"ok","name":"tab\there"}""", """{"slug":"ok","name":"N","tier":"PRO"}""",
            """{"slug":"ok","name":"N","tier":"platinum"}""", """{"slug":"ok","name":"N","billingAnchorDay":0}""", """{"slug":"ok","name":"N","billingAnchorDay":32}""",
            """{"slug":"ok","name":"N","billingAnchorDay":"1"}""", """{"slug":"ok","name":"N","id":"other"}""", """{"slug":"acme","name":"Taken"}""",
        ];
        requests.AddRange(badRegistrations.Select((body, i) => new HostileRequest($"register body {i}: {Shorten(body)}", "PUT", "/api/v1/organisations/new-org", body, "admin")));
        requests.Add(new("register with a write token", "PUT", "/api/v1/organisations/new-org", ValidRegister, "acme"));

        string[] badAssignments = ["""{"tier":"platinum"}""", """{"tier":"PRO"}""", """{"tier":null}""", "{}", """{"tier":"pro","reason":"bell\u0007"}""", "{\"tier\":\"pro\",\"reason\":\"" + new string('r', 501) + "\"}", """{"tier":["pro"]}"""];
        requests.AddRange(badAssignments.Select((body, i) => new HostileRequest($"assign tier body {i}: {Shorten(body)}", "PUT", "/api/v1/usage/acme/tier", body, "admin")));
        requests.Add(new("assign tier with the organisation's own token", "PUT", "/api/v1/usage/acme/tier", """{"tier":"business"}""", "acme"));

        string[] badTiers =
        [
            """{"name":"X","priceMonthly":-1}""", """{"name":"X","priceMonthly":1.001}""", """{"name":"X","priceMonthly":1e30}""", """{"name":"","priceMonthly":1}""",
            """{"name":"X","priceMonthly":1,"currency":"usd"}""", """{"name":"X","priceMonthly":1,"currency":"DOLLARS"}""", """{"name":"X","priceMonthly":1,"limits":{"NOPE":1}}""",
            """{"name":"X","priceMonthly":1,"limits":{"API_ACCESS":3}}""", """{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":false}}""",
            """{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":-1}}""", """{"name":"X","priceMonthly":1,"limits":{"AI_MESSAGES":"many"}}""", """{"name":"X","priceMonthly":1,"code":"other"}""",
        ];
        requests.AddRange(badTiers.Select((body, i) => new HostileRequest($"upsert tier body {i}: {Shorten(body)}", "PUT", "/api/v1/tiers/team", body, "admin")));
        requests.Add(new("upsert tier with a bad code", "PUT", "/api/v1/tiers/Team%20A", """{"name":"X","priceMonthly":1}""", "admin"));
        requests.Add(new("upsert tier with a write token", "PUT", "/api/v1/tiers/free", """{"name":"Free","priceMonthly":0}""", "acme"));
        requests.Add(new("get tier with a bad code", "GET", "/api/v1/tiers/%01", null));

        string[] badBatches =
        [
            """{"events":[]}""", "{}", """{"events":{}}""", """{"events":[1]}""", """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","enforce":true}]}""",
            """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","quantity":"1","idempotencyKey":"k"}]}""", """{"events":null}""", "[]",
        ];
        requests.AddRange(badBatches.Select((body, i) => new HostileRequest($"batch body {i}: {Shorten(body)}", "POST", "/api/v1/usage/events:batch", body)));
        requests.Add(new("batch with a read-only token", "POST", "/api/v1/usage/events:batch", """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","idempotencyKey":"k"}]}""", "acme-read"));

        string[] badChecks = ["quantity=0", "quantity=-1", "quantity=abc", "quantity=1000000001", "quantity=99999999999999999999", "quantity=1.5"];
        requests.AddRange(badChecks.Select(query => new HostileRequest($"check {query}", "GET", $"/api/v1/usage/acme/check/AI_MESSAGES?{query}", null)));
        requests.Add(new("check a lower-case feature", "GET", "/api/v1/usage/acme/check/ai_messages", null));
        requests.Add(new("check an unknown feature", "GET", "/api/v1/usage/acme/check/NOPE", null));

        string[] badOverrides =
        [
            "{}", """{"limit":"500"}""", """{"limit":1.5}""", """{"limit":-1}""", """{"limit":9223372036854775808}""", """{"limit":true}""", """{"limit":[1]}""",
            """{"limit":{"max":1}}""", """{"limit":5,"expiresAt":"2001-01-01T00:00:00Z"}""", """{"limit":5,"expiresAt":"soon"}""", """{"limit":5,"reason":"bell\u0007"}""",
            "{\"limit\":5,\"reason\":\"" + new string('r', 501) + "\"}", """{"limit":5,"grantedBy":"me"}""", """{"limit":5,"limit":6}""",
        ];
        requests.AddRange(badOverrides.Select((body, i) => new HostileRequest($"grant override body {i}: {Shorten(body)}", "PUT", "/api/v1/organisations/acme/overrides/AI_MESSAGES", body, "admin")));
        requests.Add(new("grant a flag to a counted feature", "PUT", "/api/v1/organisations/acme/overrides/API_ACCESS", """{"limit":10}""", "admin"));
        requests.Add(new("grant an override of an unknown feature", "PUT", "/api/v1/organisations/acme/overrides/NOPE", ValidOverride, "admin"));
        requests.Add(new("grant an override of a lower-case feature", "PUT", "/api/v1/organisations/acme/overrides/ai_messages", ValidOverride, "admin"));
        requests.Add(new("grant an override with the organisation's own token", "PUT", "/api/v1/organisations/acme/overrides/AI_MESSAGES", ValidOverride, "acme"));
        requests.Add(new("revoke an override with the organisation's own token", "DELETE", "/api/v1/organisations/acme/overrides/AI_MESSAGES", null, "acme"));
        requests.Add(new("revoke an override that does not exist", "DELETE", "/api/v1/organisations/acme/overrides/AI_MESSAGES", null, "admin"));
        requests.Add(new("revoke with a bad reason", "DELETE", "/api/v1/organisations/acme/overrides/AI_MESSAGES?reason=%07", null, "admin"));
        requests.Add(new("list overrides with another organisation's token", "GET", "/api/v1/organisations/acme/overrides", null, "rival"));
        requests.Add(new("list overrides with includeExpired=maybe", "GET", "/api/v1/organisations/acme/overrides?includeExpired=maybe", null));

        string[] badReserves =
        [
            "{}", "null", """{"feature":"API_ACCESS","quantity":1}""", """{"feature":"NOPE","quantity":1}""", """{"feature":"AI_MESSAGES","quantity":0}""",
            """{"feature":"AI_MESSAGES","quantity":-1}""", """{"feature":"AI_MESSAGES","quantity":51}""", """{"feature":"AI_MESSAGES","quantity":1.5}""",
            """{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":0}""", """{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":86401}""",
            """{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":"300"}""", """{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":3000000000}""",
            """{"feature":"AI_MESSAGES","quantity":1,"enforce":true}""", """{"feature":"AI_MESSAGES","quantity":1,"properties":{"k":1}}""",
            """{"feature":"AI_MESSAGES","quantity":1,"idempotencyKey":"line\nbreak"}""", """{"feature":"AI_MESSAGES","quantity":1,"reservationId":"x"}""",
        ];
        requests.AddRange(badReserves.Select((body, i) => new HostileRequest($"reserve body {i}: {Shorten(body)}", "POST", "/api/v1/usage/acme/reservations", body)));
        requests.Add(new("reserve with a read-only token", "POST", "/api/v1/usage/acme/reservations", ValidReserve, "acme-read"));
        requests.Add(new("reserve with another organisation's token", "POST", "/api/v1/usage/acme/reservations", ValidReserve, "rival"));
        string[] badCommits = ["""{"quantity":0}""", """{"quantity":-3}""", """{"quantity":"1"}""", """{"quantity":1e40}""", """{"quantity":1,"eventId":"x"}""", "[]"];
        requests.AddRange(badCommits.Select((body, i) => new HostileRequest($"commit body {i}: {Shorten(body)}", "POST", $"{SomeReservation}/commit", body)));
        requests.Add(new("commit a reservation that does not exist", "POST", $"{SomeReservation}/commit", "{}"));
        requests.Add(new("commit a reservation id that is not one", "POST", "/api/v1/usage/acme/reservations/not-a-guid/commit", "{}"));
        requests.Add(new("commit with another organisation's token", "POST", $"{SomeReservation}/commit", "{}", "rival"));
        requests.Add(new("release a reservation that does not exist", "DELETE", SomeReservation, null));
        requests.Add(new("release with a read-only token", "DELETE", SomeReservation, null, "acme-read"));
        requests.Add(new("list reservations with another organisation's token", "GET", "/api/v1/usage/acme/reservations", null, "rival"));

        string[] badWebhooks =
        [
            "{}", """{"url":"ftp://x.example/"}""", """{"url":"not a url"}""", """{"url":"http://u:p@127.0.0.1/"}""", """{"url":5}""",
            """{"url":"http://127.0.0.1:9/hooks","eventTypes":["all"]}""", """{"url":"http://127.0.0.1:9/hooks","eventTypes":"usage.threshold.crossed"}""",
            """{"url":"http://127.0.0.1:9/hooks","orgId":"a:b"}""", """{"url":"http://127.0.0.1:9/hooks","orgId":"ghost"}""",
            """{"url":"http://127.0.0.1:9/hooks","enabled":false}""", """{"url":"http://127.0.0.1:9/hooks","secret":"whsec_x"}""",
        ];
        requests.AddRange(badWebhooks.Select((body, i) => new HostileRequest($"register webhook body {i}: {Shorten(body)}", "POST", "/api/v1/webhooks", body, "admin")));
        string[] badWebhookPatches = ["""{"orgId":1}""", """{"description":[]}""", """{"enabled":"yes"}""", """{"url":"gopher://x/"}""", """{"secret":"x"}""", "[]"];
        requests.AddRange(badWebhookPatches.Select((body, i) => new HostileRequest($"change webhook body {i}: {Shorten(body)}", "PATCH", SomeWebhook, body, "admin")));
        requests.Add(new("register a webhook with a write token", "POST", "/api/v1/webhooks", ValidWebhook, "acme"));
        requests.Add(new("list webhooks with a read token", "GET", "/api/v1/webhooks", null, "acme-read"));
        requests.Add(new("get a webhook that does not exist", "GET", SomeWebhook, null, "admin"));
        requests.Add(new("get a webhook by an id that is not one", "GET", "/api/v1/webhooks/not-a-guid", null, "admin"));
        requests.Add(new("delete a webhook that does not exist", "DELETE", SomeWebhook, null, "admin"));
        requests.Add(new("rotate the secret of a webhook that does not exist", "POST", $"{SomeWebhook}/rotate-secret", null, "admin"));
        requests.Add(new("test a webhook that does not exist", "POST", $"{SomeWebhook}/test", null, "admin"));
        requests.Add(new("list the deliveries of a webhook that does not exist", "GET", $"{SomeWebhook}/deliveries", null, "admin"));
        requests.Add(new("retry a delivery that does not exist", "POST", $"{SomeWebhook}/deliveries/{Guid.Empty}/retry", null, "admin"));
        requests.Add(new("test a webhook with a write token", "POST", $"{SomeWebhook}/test", null, "acme"));

        // The event log's cursor: junk, one made for other filters, and a real one with its checksum altered.
        var position = new EventCursor(new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero), Guid.Empty);
        var forScans = position.Encode(new ListUsageEvents("acme", "DOCUMENT_SCANS", null, null, null, null).Query);
        var forAll = position.Encode(new ListUsageEvents("acme", null, null, null, null, null).Query);
        var altered = forAll[..^1] + (forAll[^1] == 'A' ? 'B' : 'A');
        string[] badEventQueries =
        [
            "cursor=AAAA", $"cursor={new string('A', 43)}", $"cursor={forScans}", $"cursor={altered}", $"cursor={forAll}%00", "cursor=%F0%9F%98%80",
            "limit=0", "limit=-1", "limit=1001", "limit=abc", "limit=99999999999", "feature=ai_messages", "feature=NOPE",
            "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z", "from=yesterday",
            "from=0001-01-01T00:00:00Z", "to=9999-12-31T23:59:59Z", "to=1999-01-01T00:00:00Z",
        ];
        requests.AddRange(badEventQueries.Select(query => new HostileRequest($"list events ?{query}", "GET", $"/api/v1/usage/acme/events?{query}", null)));
        requests.Add(new("list events with another organisation's token", "GET", "/api/v1/usage/acme/events", null, "rival"));
        requests.Add(new("list events of an organisation that does not exist", "GET", "/api/v1/usage/nobody/events", null, "admin"));

        string[] badHistoryQueries =
        [
            "", "feature=", "feature=NOPE", "feature=API_ACCESS&granularity=minute", "feature=AI_MESSAGES&granularity=HOUR",
            "feature=AI_MESSAGES&granularity=hour&from=2025-01-01T00:00:00Z&to=2026-02-20T16:00:00Z",
            "feature=AI_MESSAGES&granularity=day&from=1990-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "feature=AI_MESSAGES&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "feature=AI_MESSAGES&groupBy=model",
            "feature=AI_MESSAGES&groupBy=", "feature=AI_MESSAGES&groupBy=%07", $"feature=AI_MESSAGES&groupBy={new string('k', 65)}",
            "feature=AI_MESSAGES&from=not-a-time", "feature=AI_MESSAGES&to=2300-01-01T00:00:00Z",
        ];
        requests.AddRange(badHistoryQueries.Select(query => new HostileRequest($"history ?{query}", "GET", $"/api/v1/usage/acme/history?{query}", null)));
        requests.Add(new("history with another organisation's token", "GET", "/api/v1/usage/acme/history?feature=AI_MESSAGES", null, "rival"));

        string[] badCorrections =
        [
            "{}", "null", "[]", """{"feature":"AI_MESSAGES","quantity":0,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":"1","occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1000000001,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":-100,"occurredAt":"2026-11-20T10:00:00Z","reason":"below zero","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2999-01-01T00:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"1900-01-01T00:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"yesterday","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"","idempotencyKey":"c"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"bell","idempotencyKey":"c"}""",
            "{\"feature\":\"AI_MESSAGES\",\"quantity\":1,\"occurredAt\":\"2026-11-20T10:00:00Z\",\"reason\":\"" + new string('r', 501) + "\",\"idempotencyKey\":\"c\"}",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r"}""",
            """{"feature":"AI_MESSAGES","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"line\nbreak"}""",
            """{"feature":"API_ACCESS","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"NOPE","quantity":1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
            """{"feature":"TEAM_MEMBERS","quantity":-1,"occurredAt":"2026-11-20T10:00:00Z","reason":"r","idempotencyKey":"c"}""",
        ];
        requests.AddRange(badCorrections.Select((body, i) => new HostileRequest($"correction body {i}: {Shorten(body)}", "POST", "/api/v1/usage/acme/corrections", body, "admin")));
        requests.Add(new("correct with the organisation's own token", "POST", "/api/v1/usage/acme/corrections", ValidCorrection, "acme"));
        requests.Add(new("correct an organisation that does not exist", "POST", "/api/v1/usage/nobody/corrections", ValidCorrection, "admin"));
        requests.Add(new("void an event that does not exist", "POST", $"{SomeEvent}/void", """{"reason":"r"}""", "admin"));
        requests.Add(new("void an event id that is not one", "POST", "/api/v1/usage/acme/events/not-a-guid/void", """{"reason":"r"}""", "admin"));
        requests.Add(new("void without a reason", "POST", $"{SomeEvent}/void", "{}", "admin"));
        requests.Add(new("void with a null body", "POST", $"{SomeEvent}/void", "null", "admin"));
        requests.Add(new("void with the organisation's own token", "POST", $"{SomeEvent}/void", """{"reason":"r"}""", "acme"));

        string[] badExports =
        [
            "", "from=2026-11-01T00:00:00Z", "to=2026-12-01T00:00:00Z", "from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
            $"{SomeRange}&format=xml", $"{SomeRange}&format=CSV", "from=yesterday&to=2026-12-01T00:00:00Z", "from=0001-01-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        ];
        requests.AddRange(badExports.Select(query => new HostileRequest($"export ?{query}", "GET", $"/api/v1/usage/export?{query}", null, "admin")));
        requests.Add(new("export with a write token", "GET", $"/api/v1/usage/export?{SomeRange}", null, "acme"));

        (string Method, string Url, string? Body)[] everyRoute =
        [
            ("PUT", "/api/v1/organisations/acme", ValidRegister), ("GET", "/api/v1/organisations/acme", null), ("POST", "/api/v1/usage/acme/track", ValidTrack),
            ("POST", "/api/v1/usage/events:batch", """{"events":[{"orgId":"acme","feature":"AI_MESSAGES","idempotencyKey":"k"}]}"""),
            ("GET", "/api/v1/usage/acme/check/AI_MESSAGES", null), ("GET", "/api/v1/usage/acme/limits", null), ("PUT", "/api/v1/usage/acme/tier", """{"tier":"pro"}"""),
            ("GET", "/api/v1/tiers", null), ("GET", "/api/v1/tiers/pro", null), ("PUT", "/api/v1/tiers/pro", """{"name":"Pro","priceMonthly":1}"""), ("GET", "/api/v1/features", null),
            ("PUT", "/api/v1/organisations/acme/overrides/AI_MESSAGES", ValidOverride), ("GET", "/api/v1/organisations/acme/overrides", null),
            ("DELETE", "/api/v1/organisations/acme/overrides/AI_MESSAGES", null), ("POST", "/api/v1/usage/acme/reservations", ValidReserve),
            ("GET", "/api/v1/usage/acme/reservations", null), ("POST", $"{SomeReservation}/commit", "{}"), ("DELETE", SomeReservation, null),
            ("POST", "/api/v1/webhooks", ValidWebhook), ("GET", "/api/v1/webhooks", null), ("GET", SomeWebhook, null), ("PATCH", SomeWebhook, """{"enabled":false}"""),
            ("DELETE", SomeWebhook, null), ("POST", $"{SomeWebhook}/rotate-secret", null), ("POST", $"{SomeWebhook}/test", null),
            ("GET", $"{SomeWebhook}/deliveries", null), ("POST", $"{SomeWebhook}/deliveries/{Guid.Empty}/retry", null),
            ("GET", "/api/v1/usage/acme/events", null), ("GET", "/api/v1/usage/acme/history?feature=AI_MESSAGES", null),
            ("POST", "/api/v1/usage/acme/corrections", ValidCorrection), ("POST", $"{SomeEvent}/void", """{"reason":"r"}"""),
            ("GET", $"/api/v1/usage/export?{SomeRange}", null),
        ];
        foreach (var (method, url, body) in everyRoute)
        {
            requests.Add(new($"{method} {url} without a token", method, url, body, "none"));
            requests.Add(new($"{method} {url} with a forged token", method, url, body, "forged"));
        }

        requests.Add(new("an unknown route", "GET", "/api/v1/nothing", null));
        requests.Add(new("a wrong method", "DELETE", "/api/v1/usage/acme/limits", null));

        var data = new TheoryData<HostileRequest>();
        foreach (var request in requests)
            data.Add(request);
        return data;
    }

    [Fact]
    public void there_are_at_least_150_of_them() => Requests().Count.ShouldBeGreaterThanOrEqualTo(150);

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task each_answers_4xx_problem_json_and_changes_nothing(HostileRequest request)
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 3, key: "k");
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        using var client = Host.Server.CreateClient();
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        if (request.Body is not null)
            message.Content = new StringContent(request.Body, Encoding.UTF8, request.ContentType);
        if (TokenOf(request.Token) is { } token)
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (request.Token == "acme-async")
            message.Headers.Add("Prefer", "respond-async");
        using var response = await client.SendAsync(message, Cancel);

        ((int)response.StatusCode).ShouldBeInRange(400, 499, request.Name);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", request.Name);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        body.ShouldContain("\"traceId\"");
        body.ShouldNotContain("   at ");
        // Nothing of the implementation: no .NET type, namespace or parameter declaration.
        body.ShouldNotContain("UsageSlices", Case.Sensitive, request.Name);
        body.ShouldNotContain("System.", Case.Sensitive, request.Name);
        body.ShouldNotContain(".NET", Case.Sensitive, request.Name);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before, request.Name);
    }

    private string? TokenOf(string who) => who switch
    {
        "admin" => AdminToken,
        "acme" or "acme-async" => TokenFor("acme"),
        "acme-read" => TokenFor("acme", Scopes.Read),
        "rival" => TokenFor("rival"),
        "forged" => new TokenIssuer(new AuthSettings { SigningKey = new string('f', 48) }, TimeProvider.System)
            .Mint("mallory", "acme", [Scopes.Admin], TimeSpan.FromHours(1)),
        _ => null,
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
