using System.Net;
using Alba;
using Marten;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.ReservingUsage;

/// <summary>Every call below is spread over two instances of the service on one database.</summary>
public sealed class when_reserving_from_two_instances(AppFixture app, SecondInstance second) : ApiTest(app), IClassFixture<SecondInstance>
{
    private IAlbaHost[] Instances => [Host, second.Host];

    [Fact]
    public async Task two_hundred_concurrent_reserves_of_one_against_fifty_remaining_hold_exactly_fifty()
    {
        await RegisterAsync("acme", "pro");
        await TrackAsync("acme", "DOCUMENT_SCANS", 950);

        var answers = await SendConcurrentlyAsync(Instances, "acme", 200,
            _ => (HttpMethod.Post, "/api/v1/usage/acme/reservations", new { feature = "DOCUMENT_SCANS", quantity = 1 }));

        answers.Count(a => a.Status == HttpStatusCode.Created).ShouldBe(50);
        answers.Count(a => a.Status == HttpStatusCode.PaymentRequired).ShouldBe(150);
        var check = await CheckAsync("acme", "DOCUMENT_SCANS");
        ((long)check["used"]!).ShouldBe(950);
        ((long)check["reserved"]!).ShouldBe(50);
        ((long)check["remaining"]!).ShouldBe(0);
        await using var session = Store.QuerySession();
        (await session.Query<Reservation>().CountAsync(r => r.Status == ReservationStatus.Active, Cancel)).ShouldBe(50);
    }

    [Fact]
    public async Task concurrent_enforce_mode_tracks_and_reserves_together_never_exceed_the_limit()
    {
        await RegisterAsync("acme");

        var answers = await SendConcurrentlyAsync(Instances, "acme", 300, i => i % 2 == 0
            ? (HttpMethod.Post, "/api/v1/usage/acme/track", new { feature = "AI_MESSAGES", quantity = 1, enforce = true })
            : (HttpMethod.Post, "/api/v1/usage/acme/reservations", new { feature = "AI_MESSAGES", quantity = 1 }));

        var tracked = answers.Count(a => a.Status == HttpStatusCode.OK);
        var held = answers.Where(a => a.Status == HttpStatusCode.Created).Select(a => (string)a.Body!["reservationId"]!).ToList();
        (tracked + held.Count).ShouldBe(50);
        answers.Count(a => a.Status == HttpStatusCode.PaymentRequired).ShouldBe(250);
        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((long)check["used"]!).ShouldBe(tracked);
        ((long)check["reserved"]!).ShouldBe(held.Count);

        var commits = await SendConcurrentlyAsync(Instances, "acme", held.Count,
            i => (HttpMethod.Post, $"/api/v1/usage/acme/reservations/{held[i]}/commit", new { }));

        commits.ShouldAllBe(a => a.Status == HttpStatusCode.OK);
        var after = await CheckAsync("acme", "AI_MESSAGES");
        ((long)after["used"]!).ShouldBe(50);
        ((long)after["reserved"]!).ShouldBe(0);
    }

    [Fact]
    public async Task a_commit_racing_a_release_ends_each_hold_exactly_once()
    {
        await RegisterAsync("acme", "pro");
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
            ids.Add((string)(await ReserveAsync("acme", "AI_MESSAGES", 10))["reservationId"]!);

        var answers = await SendConcurrentlyAsync(Instances, "acme", 40, i => i % 2 == 0
            ? (HttpMethod.Post, $"/api/v1/usage/acme/reservations/{ids[i / 2]}/commit", new { quantity = 7 })
            : (HttpMethod.Delete, $"/api/v1/usage/acme/reservations/{ids[i / 2]}", null));

        var committed = 0;
        for (var i = 0; i < 20; i++)
        {
            var (commit, release) = (answers[2 * i].Status, answers[(2 * i) + 1].Status);
            // The commit wins (the release finds it committed), or the release does (the commit finds it released).
            (commit, release).ShouldBeOneOf((HttpStatusCode.OK, HttpStatusCode.Conflict), (HttpStatusCode.Conflict, HttpStatusCode.NoContent));
            committed += commit == HttpStatusCode.OK ? 1 : 0;
        }

        var check = await CheckAsync("acme", "AI_MESSAGES");
        ((long)check["used"]!).ShouldBe(7 * committed);
        ((long)check["reserved"]!).ShouldBe(0);
    }

    [Fact]
    public async Task expiries_fire_once_with_two_instances_running()
    {
        await RegisterAsync("acme", "pro");
        var answers = await SendConcurrentlyAsync(Instances, "acme", 10,
            _ => (HttpMethod.Post, "/api/v1/usage/acme/reservations", new { feature = "AI_MESSAGES", quantity = 3, expiresInSeconds = 1 }));
        answers.ShouldAllBe(a => a.Status == HttpStatusCode.Created);

        await using var session = Store.QuerySession();
        await Eventually.WaitUntilAsync(
            async () => await session.Query<Reservation>().CountAsync(r => r.Status == ReservationStatus.Expired, Cancel) == 10,
            "Not every reservation was released at its expiry.", TimeSpan.FromSeconds(30));

        (await session.Events.QueryRawEventDataOnly<ReservationReleased>().CountAsync(Cancel)).ShouldBe(10);
        ((long)(await CheckAsync("acme", "AI_MESSAGES"))["reserved"]!).ShouldBe(0);
    }
}
