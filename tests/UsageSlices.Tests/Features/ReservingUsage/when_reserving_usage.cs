using System.Text.Json.Nodes;
using Marten;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.ReservingUsage;

public sealed class when_reserving_usage(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_hold_counts_against_the_limit_in_checks_limits_and_the_list()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 10);
        var before = Clock.GetUtcNow();

        var reserved = await ReserveAsync("acme", "AI_MESSAGES", 20, key: "completion-1");

        Guid.TryParse((string)reserved["reservationId"]!, out _).ShouldBeTrue();
        ((long)reserved["quantity"]!).ShouldBe(20);
        ((long)reserved["used"]!).ShouldBe(10);
        ((long)reserved["reserved"]!).ShouldBe(20);
        ((long)reserved["limit"]!).ShouldBe(50);
        ((long)reserved["remaining"]!).ShouldBe(20);
        ((DateTimeOffset)reserved["expiresAt"]!).ShouldBe(before.AddSeconds(300), TimeSpan.FromSeconds(5));
        reserved["periodStart"].ShouldNotBeNull();
        var check = await CheckAsync("acme", "AI_MESSAGES", 20);
        ((long)check["reserved"]!).ShouldBe(20);
        ((long)check["remaining"]!).ShouldBe(20);
        ((bool)check["allowed"]!).ShouldBeTrue();
        var tooMuch = await CheckAsync("acme", "AI_MESSAGES", 21);
        ((bool)tooMuch["allowed"]!).ShouldBeFalse();
        ((string)tooMuch["reason"]!).ShouldBe("REQUESTED_EXCEEDS_REMAINING");
        var limits = await BodyOf(await Host.Scenario(x => { x.Get.Url("/api/v1/usage/acme/limits"); x.WithBearerToken(TokenFor("acme")); }));
        ((long)limits["features"]!.AsArray().Single(f => (string)f!["feature"]! == "AI_MESSAGES")!["reserved"]!).ShouldBe(20);
        var listed = (await ListAsync("acme")).ShouldHaveSingleItem()!;
        ((string)listed["reservationId"]!).ShouldBe((string)reserved["reservationId"]!);
        ((string)listed["idempotencyKey"]!).ShouldBe("completion-1");
    }

    [Fact]
    public async Task a_hold_that_does_not_fit_is_refused_with_the_numbers_and_holds_nothing()
    {
        await RegisterAsync("acme");
        await TrackAsync("acme", "AI_MESSAGES", 10);
        await ReserveAsync("acme", "AI_MESSAGES", 30);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var refused = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature = "AI_MESSAGES", quantity = 11 }).ToUrl("/api/v1/usage/acme/reservations");
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(402);
        });

        var problem = await ProblemOf(refused, 402);
        ((string)problem["reason"]!).ShouldBe("REQUESTED_EXCEEDS_REMAINING");
        ((long)problem["used"]!).ShouldBe(10);
        ((long)problem["reserved"]!).ShouldBe(30);
        ((long)problem["remaining"]!).ShouldBe(10);
        ((long)problem["limit"]!).ShouldBe(50);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        await ReserveAsync("acme", "AI_MESSAGES", 10);
    }

    [Fact]
    public async Task enforce_mode_tracks_count_what_reservations_hold()
    {
        await RegisterAsync("acme");
        await ReserveAsync("acme", "AI_MESSAGES", 45);

        var refused = await TrackAsync("acme", "AI_MESSAGES", 6, enforce: true, status: 402);

        ((long)refused["reserved"]!).ShouldBe(45);
        ((long)(await TrackAsync("acme", "AI_MESSAGES", 5, enforce: true))["remaining"]!).ShouldBe(0);
        // Record mode records what happened, holds or not.
        ((bool)(await TrackAsync("acme", "AI_MESSAGES", 1))["overLimit"]!).ShouldBeFalse();
    }

    [Fact]
    public async Task a_commit_records_the_real_cost_less_or_more_than_held_and_ends_the_hold()
    {
        await RegisterAsync("acme");
        var less = (string)(await ReserveAsync("acme", "AI_MESSAGES", 20))["reservationId"]!;
        var more = (string)(await ReserveAsync("acme", "AI_MESSAGES", 10))["reservationId"]!;

        var committed = await CommitAsync("acme", less, 12);

        ((string)committed["reservationId"]!).ShouldBe(less);
        ((long)committed["quantity"]!).ShouldBe(12);
        ((long)committed["used"]!).ShouldBe(12);
        ((long)committed["remaining"]!).ShouldBe(28);
        ((bool)committed["duplicate"]!).ShouldBeFalse();
        ((bool)committed["overLimit"]!).ShouldBeFalse();
        var over = await CommitAsync("acme", more, 60);
        ((long)over["used"]!).ShouldBe(72);
        ((bool)over["overLimit"]!).ShouldBeTrue();
        ((long)over["remaining"]!).ShouldBe(0);
        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((long)check["used"]!).ShouldBe(72);
        ((long)check["reserved"]!).ShouldBe(0);
        (await ListAsync("acme")).ShouldBeEmpty();
        await using var session = Store.QuerySession();
        var recorded = await session.Events.QueryRawEventDataOnly<UsageRecorded>().ToListAsync(Cancel);
        recorded.Select(e => e.ReservationId.ToString()).Order().ShouldBe(new[] { less, more }.Order());
        recorded.Single(e => e.ReservationId.ToString() == less).EventId.ToString().ShouldBe((string)committed["eventId"]!);
    }

    [Fact]
    public async Task a_commit_without_a_quantity_records_what_was_held()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "TEAM_MEMBERS", 1))["reservationId"]!;

        var committed = await CommitAsync("acme", id);

        ((long)committed["quantity"]!).ShouldBe(1);
        ((long)committed["used"]!).ShouldBe(1);
        committed["periodStart"].ShouldBeNull();
    }

    [Fact]
    public async Task committing_twice_counts_once()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 5))["reservationId"]!;
        var first = await CommitAsync("acme", id);

        var again = await CommitAsync("acme", id);

        ((bool)again["duplicate"]!).ShouldBeTrue();
        ((string)again["eventId"]!).ShouldBe((string)first["eventId"]!);
        ((long)again["used"]!).ShouldBe(5);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(5);
        await using var session = Store.QuerySession();
        (await session.Events.QueryRawEventDataOnly<UsageRecorded>().CountAsync(Cancel)).ShouldBe(1);
    }

    [Fact]
    public async Task a_release_frees_the_hold_and_a_released_reservation_cannot_be_committed()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 30))["reservationId"]!;

        await DeleteAsync($"/api/v1/usage/acme/reservations/{id}", 204);

        ((long)(await CheckAsync("acme", "AI_MESSAGES"))["reserved"]!).ShouldBe(0);
        (await ListAsync("acme")).ShouldBeEmpty();
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        await DeleteAsync($"/api/v1/usage/acme/reservations/{id}", 204);
        var problem = await CommitAsync("acme", id, status: 409);
        ((string)problem["detail"]!).ShouldContain("released");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        await using var session = Store.QuerySession();
        (await session.LoadAsync<Reservation>(Guid.Parse(id), Cancel))!.Status.ShouldBe(ReservationStatus.Released);
    }

    [Fact]
    public async Task a_committed_reservation_cannot_be_released()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 3))["reservationId"]!;
        await CommitAsync("acme", id);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        await DeleteAsync($"/api/v1/usage/acme/reservations/{id}", 409);

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(3);
    }

    [Fact]
    public async Task a_commit_after_the_expiry_is_refused_even_before_the_release_has_run()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 8, expiresInSeconds: 600))["reservationId"]!;
        Clock.Advance(TimeSpan.FromSeconds(601));
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var problem = await CommitAsync("acme", id, status: 409);

        ((string)problem["detail"]!).ShouldContain("expired");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
        (await ListAsync("acme")).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_hold_is_released_by_itself_at_its_expiry_once()
    {
        await RegisterAsync("acme");
        var id = Guid.Parse((string)(await ReserveAsync("acme", "AI_MESSAGES", 25, expiresInSeconds: 1))["reservationId"]!);

        await using var session = Store.QuerySession();
        await Eventually.WaitUntilAsync(
            async () => (await session.LoadAsync<Reservation>(id, Cancel))!.Status == ReservationStatus.Expired,
            "The reservation was never released at its expiry.", TimeSpan.FromSeconds(30));

        ((long)(await CheckAsync("acme", "AI_MESSAGES"))["reserved"]!).ShouldBe(0);
        var released = (await session.Events.QueryRawEventDataOnly<ReservationReleased>().ToListAsync(Cancel)).ShouldHaveSingleItem();
        released.Status.ShouldBe(ReservationStatus.Expired);
        released.Actor.ShouldBe(Caller.ServiceSubject);
        ((long)(await ReserveAsync("acme", "AI_MESSAGES", 50))["reserved"]!).ShouldBe(50);
    }

    [Fact]
    public async Task a_retried_reserve_with_its_idempotency_key_returns_the_same_reservation()
    {
        await RegisterAsync("acme");
        var first = await ReserveAsync("acme", "AI_MESSAGES", 7, key: "job-9");

        var again = await ReserveAsync("acme", "AI_MESSAGES", 7, key: "job-9");

        ((string)again["reservationId"]!).ShouldBe((string)first["reservationId"]!);
        ((bool)again["duplicate"]!).ShouldBeTrue();
        ((long)(await CheckAsync("acme", "AI_MESSAGES"))["reserved"]!).ShouldBe(7);
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        await ReserveAsync("acme", "AI_MESSAGES", 8, key: "job-9", status: 409);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    [Fact]
    public async Task a_hold_counts_in_its_own_period_and_a_commit_in_the_period_of_the_commit()
    {
        await RegisterAsync("acme", "pro");
        var periodEnd = (DateTimeOffset)(await CheckAsync("acme", "API_CALLS"))["periodEnd"]!;
        Clock.Advance(periodEnd - Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        var id = (string)(await ReserveAsync("acme", "API_CALLS", 100, expiresInSeconds: 3_600))["reservationId"]!;
        Clock.Advance(TimeSpan.FromMinutes(2));

        ((long)(await CheckAsync("acme", "API_CALLS"))["reserved"]!).ShouldBe(0);
        var committed = await CommitAsync("acme", id, 90);

        ((DateTimeOffset)committed["periodStart"]!).ShouldBe(periodEnd);
        ((long)committed["used"]!).ShouldBe(90);
        await using var session = Store.QuerySession();
        var counters = await session.Query<UsageCounter>().Where(c => c.Feature == "API_CALLS").ToListAsync(Cancel);
        counters.Count.ShouldBe(2);
        counters.ShouldAllBe(counter => counter.Reserved == 0);
        counters.Single(c => c.PeriodStart == periodEnd).Used.ShouldBe(90);
        counters.Single(c => c.PeriodStart != periodEnd).Used.ShouldBe(0);
    }

    public static TheoryData<string, string> BadReserves => new()
    {
        { """{"feature": "API_ACCESS", "quantity": 1}""", "feature" },
        { """{"feature": "NOT_A_FEATURE", "quantity": 1}""", "feature" },
        { """{"feature": "AI_MESSAGES", "quantity": 0}""", "quantity" },
        { """{"feature": "AI_MESSAGES", "quantity": -4}""", "quantity" },
        { """{"feature": "AI_MESSAGES", "quantity": 1, "expiresInSeconds": 0}""", "expiresInSeconds" },
        { """{"feature": "AI_MESSAGES", "quantity": 1, "expiresInSeconds": 86401}""", "expiresInSeconds" },
        { """{"feature": "AI_MESSAGES", "quantity": 1, "idempotencyKey": ""}""", "idempotencyKey" },
        { """{"feature": "AI_MESSAGES", "quantity": 1, "properties": {"": "x"}}""", "properties" },
        { """{"quantity": 1}""", "feature" },
        { """{"feature": "AI_MESSAGES", "quantity": 1, "enforce": true}""", "" },
    };

    [Theory]
    [MemberData(nameof(BadReserves))]
    public async Task a_bad_reserve_is_refused_and_changes_nothing(string body, string errorKey)
    {
        await RegisterAsync("acme");

        await RawBodyIsRefusedAsync("POST", "/api/v1/usage/acme/reservations", body, TokenFor("acme"), errorKey);
    }

    [Fact]
    public async Task a_bad_commit_is_refused_and_changes_nothing()
    {
        await RegisterAsync("acme");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 3))["reservationId"]!;

        await RawBodyIsRefusedAsync("POST", $"/api/v1/usage/acme/reservations/{id}/commit", """{"quantity": 0}""", TokenFor("acme"), "quantity");
        await RawBodyIsRefusedAsync("POST", $"/api/v1/usage/acme/reservations/{id}/commit", """{"quantity": 1, "extra": 1}""", TokenFor("acme"), "");
    }

    [Fact]
    public async Task who_may_reserve_commit_release_and_list_is_decided_by_the_token()
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        var id = (string)(await ReserveAsync("acme", "AI_MESSAGES", 3))["reservationId"]!;
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var reserve = new { feature = "AI_MESSAGES", quantity = 1 };

        await SendRefusedAsync(x => x.Post.Json(reserve).ToUrl("/api/v1/usage/acme/reservations"), TokenFor("acme", Scopes.Read), 403);
        await SendRefusedAsync(x => x.Post.Json(reserve).ToUrl("/api/v1/usage/acme/reservations"), TokenFor("rival"), 403);
        await SendRefusedAsync(x => x.Post.Json(reserve).ToUrl("/api/v1/usage/acme/reservations"), null, 401);
        await SendRefusedAsync(x => x.Post.Json(reserve).ToUrl("/api/v1/usage/ghost/reservations"), AdminToken, 404);
        await SendRefusedAsync(x => x.Post.Json(new { }).ToUrl($"/api/v1/usage/acme/reservations/{id}/commit"), TokenFor("acme", Scopes.Read), 403);
        await SendRefusedAsync(x => x.Post.Json(new { }).ToUrl($"/api/v1/usage/acme/reservations/{id}/commit"), TokenFor("rival"), 403);
        // Another organisation's reservation, through its own route: as if it did not exist.
        await SendRefusedAsync(x => x.Post.Json(new { }).ToUrl($"/api/v1/usage/rival/reservations/{id}/commit"), TokenFor("rival"), 404);
        await SendRefusedAsync(x => x.Delete.Url($"/api/v1/usage/rival/reservations/{id}"), TokenFor("rival"), 404);
        await SendRefusedAsync(x => x.Post.Json(new { }).ToUrl($"/api/v1/usage/acme/reservations/{Guid.NewGuid()}/commit"), TokenFor("acme"), 404);
        await SendRefusedAsync(x => x.Delete.Url($"/api/v1/usage/acme/reservations/{Guid.NewGuid()}"), TokenFor("acme"), 404);
        await SendRefusedAsync(x => x.Delete.Url($"/api/v1/usage/acme/reservations/{id}"), TokenFor("acme", Scopes.Read), 403);
        await SendRefusedAsync(x => x.Get.Url("/api/v1/usage/acme/reservations"), TokenFor("rival"), 403);
        await SendRefusedAsync(x => x.Get.Url("/api/v1/usage/ghost/reservations"), AdminToken, 404);

        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        (await ListAsync("acme")).Count.ShouldBe(1);
    }

    private async Task DeleteAsync(string url, int status)
    {
        var result = await Host.Scenario(x =>
        {
            x.Delete.Url(url);
            x.WithBearerToken(TokenFor("acme"));
            x.StatusCodeShouldBe(status);
        });
        if (status != 204)
            await ProblemOf(result, status);
    }

    private async Task<JsonArray> ListAsync(string orgId) =>
        (await BodyOf(await Host.Scenario(x => { x.Get.Url($"/api/v1/usage/{orgId}/reservations"); x.WithBearerToken(TokenFor(orgId)); })))["reservations"]!.AsArray();
}
