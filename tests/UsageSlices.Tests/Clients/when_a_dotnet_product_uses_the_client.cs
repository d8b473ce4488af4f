using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using UsageSlices.Client;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Clients;

/// <summary>The .NET client as a product registers it, against the service as its own process on a real socket.</summary>
[Collection(nameof(AppCollection))]
public sealed class when_a_dotnet_product_uses_the_client : IAsyncLifetime
{
    private const string Schema = "usage_slices_client";

    private readonly ServiceProcess service = new(Schema);
    private ServiceProvider provider = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await service.StartAsync(Cancel);
        var services = new ServiceCollection();
        // An admin token, as a product's backend holds one for all of its organisations.
        var token = service.Tokens.Mint("client-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        services.AddUsageSlicesClient(options =>
        {
            options.BaseAddress = service.BaseAddress;
            options.TokenProvider = _ => ValueTask.FromResult(token);
        });
        provider = services.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync()
    {
        await provider.DisposeAsync();
        await service.DisposeAsync();
    }

    private UsageSlicesClient Client => provider.GetRequiredService<UsageSlicesClient>();

    /// <summary>A client of its own, registered as <see cref="InitializeAsync"/> registers one, but for <paramref name="address"/>.</summary>
    private ServiceProvider ClientFor(Uri address, Action<UsageSlicesClientOptions>? more = null)
    {
        var token = service.Tokens.Mint("client-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        return new ServiceCollection().AddUsageSlicesClient(options =>
        {
            options.BaseAddress = address;
            options.TokenProvider = _ => ValueTask.FromResult(token);
            more?.Invoke(options);
        }).Services.BuildServiceProvider();
    }

    private async Task<string> RegisterAsync(string tier)
    {
        var orgId = $"client-{Guid.NewGuid():N}";
        var admin = service.Tokens.Mint("client-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        using var register = await ServiceProcess.SendAsync(client, HttpMethod.Put, $"/api/v1/organisations/{orgId}", admin, new { slug = orgId, name = "Client", tier });
        ((int)register.StatusCode).ShouldBe(201);
        return orgId;
    }

    [Fact]
    public async Task tracks_checks_and_limits_agree()
    {
        var orgId = await RegisterAsync("starter");

        var tracked = await Client.TrackAsync(orgId, "AI_MESSAGES", 3, cancellation: Cancel);
        tracked.Used.ShouldBe(3);
        tracked.Limit.ShouldBe(1_000);
        tracked.Duplicate.ShouldBeFalse();

        var check = await Client.CheckAsync(orgId, "AI_MESSAGES", 997, Cancel);
        (check.Allowed, check.Used, check.Remaining, check.Tier).ShouldBe((true, 3L, (long?)997, "starter"));
        (await Client.CheckAsync(orgId, "AI_MESSAGES", 998, Cancel)).Reason.ShouldBe("REQUESTED_EXCEEDS_REMAINING");

        var limits = await Client.GetLimitsAsync(orgId, Cancel);
        limits.Tier.Code.ShouldBe("starter");
        limits.Features.Single(f => f.Feature == "AI_MESSAGES").Used.ShouldBe(3);
    }

    [Fact]
    public async Task a_key_sent_twice_counts_once_and_each_call_gets_its_own_key()
    {
        var orgId = await RegisterAsync("pro");

        var first = await Client.TrackAsync(orgId, "AI_MESSAGES", 5, new TrackOptions(IdempotencyKey: "msg-1"), Cancel);
        var again = await Client.TrackAsync(orgId, "AI_MESSAGES", 5, new TrackOptions(IdempotencyKey: "msg-1"), Cancel);
        (again.Duplicate, again.EventId, again.Used).ShouldBe((true, first.EventId, 5L));

        // Without a key the client makes one per call: two calls are two events.
        var one = await Client.TrackAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        var two = await Client.TrackAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        one.EventId.ShouldNotBe(two.EventId);
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(7);
    }

    [Fact]
    public async Task a_track_whose_answer_is_lost_after_the_commit_is_retried_and_counts_once()
    {
        var orgId = await RegisterAsync("pro");
        await using var proxy = new DroppingProxy(service.BaseAddress, dropAnswers: 1);
        await using var behindTheProxy = ClientFor(proxy.Address);

        var tracked = await behindTheProxy.GetRequiredService<UsageSlicesClient>().TrackAsync(orgId, "AI_MESSAGES", 4, cancellation: Cancel);

        proxy.Dropped.ShouldBe(1);
        // The retry carried the first attempt's key: the service answered it as the duplicate of what it had recorded.
        (tracked.Duplicate, tracked.Used).ShouldBe((true, 4L));
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(4);
    }

    [Fact]
    public async Task while_the_service_is_stopped_a_check_fails_open_or_closed_per_feature_and_says_so()
    {
        var orgId = await RegisterAsync("pro");
        await using var configured = ClientFor(service.BaseAddress, options =>
        {
            options.FailOpen["AI_MESSAGES"] = true;
            options.RetryDelay = TimeSpan.FromMilliseconds(50);
        });
        var client = configured.GetRequiredService<UsageSlicesClient>();
        var reachable = await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (reachable.Allowed, reachable.ServiceUnreachable).ShouldBe((true, false));

        service.Kill();

        var open = await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (open.Allowed, open.ServiceUnreachable, open.Reason).ShouldBe((true, true, (string?)null));
        var closed = await client.CheckAsync(orgId, "DOCUMENT_SCANS", cancellation: Cancel);
        (closed.Allowed, closed.ServiceUnreachable, closed.Reason).ShouldBe((false, true, "SERVICE_UNREACHABLE"));
        // A write is never guessed: it fails, for the product to retry or queue.
        await Should.ThrowAsync<HttpRequestException>(() => client.TrackAsync(orgId, "AI_MESSAGES", cancellation: Cancel));

        await service.StartAsync(Cancel);
        var back = await client.CheckAsync(orgId, "DOCUMENT_SCANS", cancellation: Cancel);
        (back.Allowed, back.ServiceUnreachable).ShouldBe((true, false));
    }

    [Fact]
    public async Task calls_refused_with_429_are_retried_after_the_services_retry_after_and_each_counts_once()
    {
        var orgId = await RegisterAsync("pro");
        // A second instance on the same schema, allowing each organisation one call a second.
        await using var limited = new ServiceProcess(Schema, settings: new Dictionary<string, string>
        {
            ["RateLimiting__PermitsPerSecond"] = "1",
            ["RateLimiting__Burst"] = "1",
        });
        await limited.StartAsync(Cancel);
        var answers = new StatusRecorder();
        var token = limited.Tokens.Mint("client-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        var services = new ServiceCollection();
        services.AddUsageSlicesClient(options =>
        {
            options.BaseAddress = limited.BaseAddress;
            options.TokenProvider = _ => ValueTask.FromResult(token);
        }).AddHttpMessageHandler(() => answers);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<UsageSlicesClient>();

        var tracked = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.TrackAsync(orgId, "AI_MESSAGES", cancellation: Cancel)));

        answers.Statuses.ShouldContain(429);
        tracked.Select(t => t.EventId).Distinct().Count().ShouldBe(3);
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(3);
    }

    /// <summary>The statuses of every attempt (it sits inside the client's retries).</summary>
    private sealed class StatusRecorder : DelegatingHandler
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<int> statuses = new();

        public IReadOnlyCollection<int> Statuses => statuses;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            statuses.Enqueue((int)response.StatusCode);
            return response;
        }
    }

    [Fact]
    public async Task a_refusal_in_enforce_mode_is_a_typed_exception_with_the_numbers_and_records_nothing()
    {
        var orgId = await RegisterAsync("free");
        await Client.TrackAsync(orgId, "AI_MESSAGES", 48, cancellation: Cancel);

        var refused = await Should.ThrowAsync<UsageLimitReachedException>(
            () => Client.TrackAsync(orgId, "AI_MESSAGES", 3, new TrackOptions(Enforce: true), Cancel));
        (refused.Status, refused.Reason, refused.Requested, refused.Used, refused.Limit, refused.Remaining)
            .ShouldBe((402, "REQUESTED_EXCEEDS_REMAINING", (long?)3, (long?)48, (long?)50, (long?)2));
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(48);

        var unknown = await Should.ThrowAsync<UsageSlicesException>(() => Client.CheckAsync($"{orgId}-missing", "AI_MESSAGES", cancellation: Cancel));
        unknown.Status.ShouldBe(404);
    }

    [Fact]
    public async Task a_reservation_left_uncommitted_is_released_and_a_committed_one_records_what_was_used()
    {
        var orgId = await RegisterAsync("starter");

        await using (var abandoned = await Client.ReserveAsync(orgId, "AI_MESSAGES", 400, cancellation: Cancel))
            (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Reserved.ShouldBe(400);
        var afterRelease = await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (afterRelease.Reserved, afterRelease.Used).ShouldBe((0L, 0L));

        await using (var work = await Client.ReserveAsync(orgId, "AI_MESSAGES", 400, cancellation: Cancel))
        {
            var committed = await work.CommitAsync(123, Cancel);
            committed.Used.ShouldBe(123);
        }
        var afterCommit = await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (afterCommit.Reserved, afterCommit.Used).ShouldBe((0L, 123L));
    }
}
