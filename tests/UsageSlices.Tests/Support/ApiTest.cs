using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Alba;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using UsageSlices.Infrastructure;

namespace UsageSlices.Tests.Support;

/// <summary>
/// The base of every HTTP test: the shared host, data reset before each test, tokens, and scenario helpers that
/// let tests read like the domain ("register acme on pro", "track 3 AI_MESSAGES").
/// </summary>
[Collection(nameof(AppCollection))]
public abstract class ApiTest(AppFixture app) : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    protected IAlbaHost Host => app.Host;

    protected TestClock Clock => app.Clock;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    protected IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    public async ValueTask InitializeAsync() => await app.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected string AdminToken => Mint("admin", null, Scopes.Admin);

    protected string TokenFor(string orgId, params string[] scopes) =>
        Mint("tester", orgId, scopes.Length == 0 ? [Scopes.Read, Scopes.Write] : scopes);

    /// <summary>Tokens are stamped by the real clock, which is the one the JWT handler checks them against, whatever <see cref="Clock"/> says.</summary>
    protected string Mint(string subject, string? orgId, params string[] scopes) =>
        new TokenIssuer(Host.Services.GetRequiredService<AuthSettings>(), TimeProvider.System).Mint(subject, orgId, scopes, TimeSpan.FromHours(1));

    protected async Task<JsonObject> RegisterAsync(string orgId, string tier = "free", int? billingAnchorDay = null)
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(new { slug = orgId.ToLowerInvariant(), name = $"Org {orgId}", tier, billingAnchorDay }).ToUrl($"/api/v1/organisations/{orgId}");
            x.WithBearerToken(AdminToken);
            x.StatusCodeShouldBe(201);
        });
        return await BodyOf(result);
    }

    protected async Task<JsonObject> TrackAsync(string orgId, string feature, long quantity = 1, bool enforce = false, string? key = null, int status = 200)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature, quantity, enforce, idempotencyKey = key }).ToUrl($"/api/v1/usage/{orgId}/track");
            x.WithBearerToken(TokenFor(orgId));
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }

    protected async Task<JsonObject> CheckAsync(string orgId, string feature, long quantity = 1)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url($"/api/v1/usage/{orgId}/check/{feature}?quantity={quantity}");
            x.WithBearerToken(TokenFor(orgId));
        });
        return await BodyOf(result);
    }

    protected async Task<long> UsedAsync(string orgId, string feature) => (long)(await CheckAsync(orgId, feature))["used"]!;

    /// <summary>
    /// Sends <paramref name="count"/> track calls at once, spread round-robin over <paramref name="hosts"/>
    /// (several hosts act as several instances of the service on one database).
    /// </summary>
    protected async Task<HttpStatusCode[]> TrackConcurrentlyAsync(IReadOnlyList<IAlbaHost> hosts, string orgId, int count, Func<int, object> body) =>
        [.. (await SendConcurrentlyAsync(hosts, orgId, count, i => (HttpMethod.Post, $"/api/v1/usage/{orgId}/track", body(i)))).Select(answer => answer.Status)];

    /// <summary>
    /// Sends <paramref name="count"/> requests at once with <paramref name="orgId"/>'s token, spread round-robin over
    /// <paramref name="hosts"/>, and returns each one's status and body, in the order of <paramref name="call"/>'s index.
    /// </summary>
    protected async Task<(HttpStatusCode Status, JsonNode? Body)[]> SendConcurrentlyAsync(
        IReadOnlyList<IAlbaHost> hosts, string orgId, int count, Func<int, (HttpMethod Method, string Url, object? Body)> call)
    {
        // Nothing to send is a legitimate case (a race that left no holds to commit), and SemaphoreSlim.Release(0) throws.
        if (count == 0)
            return [];
        var token = TokenFor(orgId);
        var clients = hosts.Select(host =>
        {
            var client = host.Server.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return client;
        }).ToList();
        using var start = new SemaphoreSlim(0);
        var calls = Enumerable.Range(0, count).Select(async i =>
        {
            await start.WaitAsync(Cancel);
            var (method, url, body) = call(i);
            using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await clients[i % clients.Count].SendAsync(request, Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
        }).ToList();
        start.Release(count);
        var answers = await Task.WhenAll(calls);
        clients.ForEach(client => client.Dispose());
        return answers;
    }

    protected async Task<JsonObject> GrantOverrideAsync(string orgId, string feature, object body, string? token = null)
    {
        var result = await Host.Scenario(x =>
        {
            x.Put.Json(body).ToUrl($"/api/v1/organisations/{orgId}/overrides/{feature}");
            x.WithBearerToken(token ?? AdminToken);
            x.StatusCodeShouldBe(200);
        });
        return await BodyOf(result);
    }

    protected async Task<JsonObject> ReserveAsync(string orgId, string feature, long quantity, int expiresInSeconds = 300, string? key = null, int status = 201)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(new { feature, quantity, expiresInSeconds, idempotencyKey = key }).ToUrl($"/api/v1/usage/{orgId}/reservations");
            x.WithBearerToken(TokenFor(orgId));
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }

    protected async Task<JsonObject> CommitAsync(string orgId, string reservationId, long? quantity = null, int status = 200)
    {
        var result = await Host.Scenario(x =>
        {
            x.Post.Json(quantity is null ? (object)new { } : new { quantity }).ToUrl($"/api/v1/usage/{orgId}/reservations/{reservationId}/commit");
            x.WithBearerToken(TokenFor(orgId));
            x.StatusCodeShouldBe(status);
        });
        return await BodyOf(result);
    }

    protected static async Task<JsonObject> BodyOf(IScenarioResult result)
    {
        var text = await result.ReadAsTextAsync();
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>
    /// Sends a request built by <paramref name="send"/> (with <paramref name="token"/>, or none) and expects a refusal with
    /// that status: a problem+json body, except for a 401, which the authentication handler answers.
    /// </summary>
    protected async Task SendRefusedAsync(Action<Scenario> send, string? token, int status)
    {
        var result = await Host.Scenario(x =>
        {
            send(x);
            if (token is not null)
                x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });
        if (status != 401)
            await ProblemOf(result, status);
    }

    /// <summary>GETs <paramref name="url"/> (with <paramref name="token"/>, or none), expects a problem with that status, returns it.</summary>
    protected async Task<JsonObject> GetProblemAsync(string url, string? token, int status)
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url(url);
            if (token is not null)
                x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });
        return await ProblemOf(result, status);
    }

    /// <summary>
    /// Sends <paramref name="body"/> as it is (JSON or not), expects a 400 problem whose <c>errors</c> name exactly
    /// <paramref name="errorKey"/> (empty: a body that could not be read at all, which has no <c>errors</c>), and
    /// proves from the database that nothing changed.
    /// </summary>
    protected async Task<JsonObject> RawBodyIsRefusedAsync(string method, string url, string body, string token, string errorKey)
    {
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);
        var result = await Host.Scenario(x =>
        {
            _ = method == "PUT" ? x.Put.Text(body).ToUrl(url) : x.Post.Text(body).ToUrl(url);
            x.WithRequestHeader("Content-Type", "application/json");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(400);
        });

        var problem = await ProblemOf(result, 400);
        if (errorKey.Length > 0)
            ErrorKeysOf(problem).ShouldBe([errorKey]);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
        return problem;
    }

    /// <summary>The fields a validation problem names, as the client reads them.</summary>
    protected static string[] ErrorKeysOf(JsonObject problem) => [.. problem["errors"]!.AsObject().Select(error => error.Key)];

    /// <summary>Asserts an RFC 9457 problem response with the fields DESIGN.md promises, and returns it.</summary>
    protected static async Task<JsonObject> ProblemOf(IScenarioResult result, int status)
    {
        result.Context.Response.StatusCode.ShouldBe(status);
        result.Context.Response.ContentType.ShouldStartWith("application/problem+json");
        var problem = await BodyOf(result);
        ((int)problem["status"]!).ShouldBe(status);
        ((string?)problem["type"]).ShouldNotBeNullOrWhiteSpace();
        ((string?)problem["title"]).ShouldNotBeNullOrWhiteSpace();
        ((string?)problem["detail"]).ShouldNotBeNullOrWhiteSpace();
        ((string?)problem["traceId"]).ShouldNotBeNullOrWhiteSpace();
        problem.ToJsonString().ShouldNotContain("   at ");
        return problem;
    }
}
