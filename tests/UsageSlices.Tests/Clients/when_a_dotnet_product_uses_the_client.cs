using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using UsageSlices.Client;
using UsageSlices.Tests.Clients.Samples;
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

    [Fact]
    public async Task a_batch_records_each_event_once_and_refuses_the_bad_ones_on_their_own()
    {
        var orgId = await RegisterAsync("pro");
        await using var proxy = new DroppingProxy(service.BaseAddress, dropAnswers: 1);
        await using var behindTheProxy = ClientFor(proxy.Address);

        // The first answer is lost after the commit; the retry carries the same generated keys.
        var batch = await behindTheProxy.GetRequiredService<UsageSlicesClient>().TrackBatchAsync(
        [
            new BatchEvent(orgId, "AI_MESSAGES", 2),
            // Sent explicitly, and now: a moment before the registration could lie in the period before (at midnight).
            new BatchEvent(orgId, "DOCUMENT_SCANS", 1, OccurredAt: DateTimeOffset.UtcNow),
            new BatchEvent($"{orgId}-missing", "AI_MESSAGES"),
        ], Cancel);

        proxy.Dropped.ShouldBe(1);
        (batch.Recorded, batch.Duplicates, batch.Rejected).ShouldBe((0, 2, 1));
        batch.Results.Select(r => (r.Index, r.Status)).ShouldBe([(0, "duplicate"), (1, "duplicate"), (2, "rejected")]);
        batch.Results[0].Result!.Used.ShouldBe(2);
        batch.Results[2].Problem!.Status.ShouldBe(404);
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(2);
        (await Client.CheckAsync(orgId, "DOCUMENT_SCANS", cancellation: Cancel)).Used.ShouldBe(1);
    }

    [Fact]
    public async Task the_limits_cache_never_serves_a_page_older_than_its_bound_and_sees_its_own_tracks_at_once()
    {
        var orgId = await RegisterAsync("starter");
        var clock = new TestClock();
        await using var cached = ClientFor(service.BaseAddress, options =>
        {
            options.LimitsCacheMaxStaleness = TimeSpan.FromMinutes(1);
            options.TimeProvider = clock;
        });
        var client = cached.GetRequiredService<UsageSlicesClient>();

        var first = await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (first.FromCache, first.Used).ShouldBe((true, 0L));

        // Another instance's usage is not seen while the page is within its bound…
        await Client.TrackAsync(orgId, "AI_MESSAGES", 5, cancellation: Cancel);
        (await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(0);
        // …but this instance's own track writes the service's answer (which counts the other's 5) into the page.
        (await client.TrackAsync(orgId, "AI_MESSAGES", 1, cancellation: Cancel)).Used.ShouldBe(6);
        var afterOwnTrack = await client.CheckAsync(orgId, "AI_MESSAGES", 994, Cancel);
        (afterOwnTrack.FromCache, afterOwnTrack.Used, afterOwnTrack.Remaining, afterOwnTrack.Allowed).ShouldBe((true, 6L, (long?)994, true));
        (await client.GetLimitsAsync(orgId, Cancel)).Features.Single(f => f.Feature == "AI_MESSAGES").Used.ShouldBe(6);

        await Client.TrackAsync(orgId, "AI_MESSAGES", 10, cancellation: Cancel);
        clock.Advance(TimeSpan.FromSeconds(59));
        (await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(6);

        // Past the bound (counted from when the page was asked for), the page is read again.
        clock.Advance(TimeSpan.FromSeconds(2));
        var fresh = await client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (fresh.FromCache, fresh.Used).ShouldBe((true, 16L));
        (await client.GetLimitsAsync(orgId, Cancel)).Features.Single(f => f.Feature == "AI_MESSAGES").Used.ShouldBe(16);
    }

    [Fact]
    public async Task a_check_from_the_cache_answers_what_the_service_answers()
    {
        var orgId = await RegisterAsync("free");
        await Client.TrackAsync(orgId, "AI_MESSAGES", 48, cancellation: Cancel);
        await using var held = await Client.ReserveAsync(orgId, "AI_MESSAGES", 1, cancellation: Cancel);
        await using var cached = ClientFor(service.BaseAddress, options => options.LimitsCacheMaxStaleness = TimeSpan.FromMinutes(1));
        var client = cached.GetRequiredService<UsageSlicesClient>();

        // At and past what is left of a limit; a feature not in the tier; a flag off; an allocation; far past a limit.
        (string Feature, long Quantity)[] cases =
            [("AI_MESSAGES", 1), ("AI_MESSAGES", 2), ("API_CALLS", 1), ("API_ACCESS", 1), ("TEAM_MEMBERS", 1), ("INVOICES", 1_000_000_000)];
        foreach (var (feature, quantity) in cases)
        {
            var fromCache = await client.CheckAsync(orgId, feature, quantity, Cancel);
            var fromService = await Client.CheckAsync(orgId, feature, quantity, Cancel);
            fromCache.FromCache.ShouldBeTrue();
            fromService.FromCache.ShouldBeFalse();
            (fromCache.Allowed, fromCache.Reason, fromCache.Used, fromCache.Reserved, fromCache.Limit, fromCache.Remaining, fromCache.Kind, fromCache.Tier)
                .ShouldBe((fromService.Allowed, fromService.Reason, fromService.Used, fromService.Reserved, fromService.Limit,
                    fromService.Remaining, fromService.Kind, fromService.Tier), $"{feature} × {quantity}");
        }

        // What the service's check refuses as input, the cached client sends it to be refused.
        (await Should.ThrowAsync<UsageSlicesException>(() => client.CheckAsync(orgId, "AI_MESSAGES", 0, Cancel))).Status.ShouldBe(400);

        await Client.TrackAsync(orgId, "AI_MESSAGES", 1, cancellation: Cancel);
        await using var readAfresh = ClientFor(service.BaseAddress, options => options.LimitsCacheMaxStaleness = TimeSpan.FromMinutes(1));
        var full = await readAfresh.GetRequiredService<UsageSlicesClient>().CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (full.Allowed, full.Reason).ShouldBe((false, "LIMIT_EXCEEDED"));
    }

    /// <summary>A product's own ASP.NET Core app with a chat route guarded by <c>RequireFeature</c>, its client aimed at <paramref name="usageSlices"/>.</summary>
    private async Task<(WebApplication App, HttpClient Consumer, Func<int> Answered)> ProductAppAsync(Uri usageSlices)
    {
        var token = service.Tokens.Mint("client-test", null, [Scopes.Admin], TimeSpan.FromHours(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddUsageSlicesClient(options =>
        {
            options.BaseAddress = usageSlices;
            options.TokenProvider = _ => ValueTask.FromResult(token);
            options.RetryDelay = TimeSpan.FromMilliseconds(50);
            options.OrganisationOf = http => http.Request.Headers["X-Organisation"].FirstOrDefault();
        });
        var app = builder.Build();
        var answered = 0;
        app.MapPost("/chat", (HttpContext http) =>
        {
            Interlocked.Increment(ref answered);
            return Results.Ok(new { remaining = http.Features.Get<CheckResult>()!.Remaining });
        }).RequireFeature("AI_MESSAGES");
        await app.StartAsync(Cancel);
        return (app, app.GetTestClient(), () => answered);
    }

    private static Task<HttpResponseMessage> ChatAsync(HttpClient consumer, string? orgId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/chat");
        if (orgId is not null)
            request.Headers.Add("X-Organisation", orgId);
        return consumer.SendAsync(request, Cancel);
    }

    [Fact]
    public async Task a_route_that_requires_a_feature_runs_only_while_the_organisation_may_use_it()
    {
        var orgId = await RegisterAsync("free");
        await Client.TrackAsync(orgId, "AI_MESSAGES", 49, cancellation: Cancel);
        var (app, consumer, answered) = await ProductAppAsync(service.BaseAddress);
        await using var _ = app;

        using var allowed = await ChatAsync(consumer, orgId);
        allowed.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await allowed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("remaining").GetInt64().ShouldBe(1);

        await Client.TrackAsync(orgId, "AI_MESSAGES", 1, cancellation: Cancel);
        using var refused = await ChatAsync(consumer, orgId);
        refused.StatusCode.ShouldBe(HttpStatusCode.PaymentRequired);
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (problem.GetProperty("reason").GetString(), problem.GetProperty("used").GetInt64(), problem.GetProperty("limit").GetInt64(),
            problem.GetProperty("remaining").GetInt64()).ShouldBe(("LIMIT_EXCEEDED", 50L, 50L, 0L));

        using var nobody = await ChatAsync(consumer, null);
        nobody.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        // The route ran once: for the request that was allowed.
        answered().ShouldBe(1);
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(50);
    }

    [Fact]
    public async Task a_route_that_requires_a_feature_is_503_while_the_service_cannot_be_reached_and_the_feature_fails_closed()
    {
        await using var stopped = new ServiceProcess(Schema);
        var (app, consumer, answered) = await ProductAppAsync(stopped.BaseAddress);
        await using var _ = app;

        using var unreachable = await ChatAsync(consumer, "acme");

        unreachable.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await unreachable.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("reason").GetString().ShouldBe("SERVICE_UNREACHABLE");
        answered().ShouldBe(0);
    }

    /// <summary>The product's model, as the sample's test drives it: answers in a given number of messages, or fails.</summary>
    private sealed class ScriptedModel(int messages, bool fails = false) : IChatModel
    {
        public int? AllowedMessages { get; private set; }

        public Task<ModelReply> CompleteAsync(string prompt, int maxMessages, CancellationToken cancellation)
        {
            AllowedMessages = maxMessages;
            return fails
                ? throw new HttpRequestException("The model's provider is down.")
                : Task.FromResult(new ModelReply($"Answer to {prompt}", Math.Min(messages, maxMessages)));
        }
    }

    [Fact]
    public async Task the_chat_turn_sample_commits_what_the_model_used_and_releases_the_hold_when_the_model_fails()
    {
        var orgId = await RegisterAsync("free");

        var reply = await new ChatTurn(Client, new ScriptedModel(3)).AnswerAsync(orgId, "hello", Cancel);
        reply.ShouldBe("Answer to hello");
        var afterTurn = await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (afterTurn.Used, afterTurn.Reserved).ShouldBe((3L, 0L));

        await Should.ThrowAsync<HttpRequestException>(() => new ChatTurn(Client, new ScriptedModel(3, fails: true)).AnswerAsync(orgId, "again", Cancel));
        var afterFailure = await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel);
        (afterFailure.Used, afterFailure.Reserved).ShouldBe((3L, 0L));

        // Two messages left: the turn holds two, and the model is told so.
        await Client.TrackAsync(orgId, "AI_MESSAGES", 45, cancellation: Cancel);
        var nearTheLimit = new ScriptedModel(5);
        await new ChatTurn(Client, nearTheLimit).AnswerAsync(orgId, "long", Cancel);
        nearTheLimit.AllowedMessages.ShouldBe(2);
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(50);

        var refused = await new ChatTurn(Client, new ScriptedModel(1)).AnswerAsync(orgId, "more", Cancel);
        refused.ShouldStartWith("Your organisation has used its 50 AI messages; they renew on ");
        (await Client.CheckAsync(orgId, "AI_MESSAGES", cancellation: Cancel)).Used.ShouldBe(50);
    }
}
