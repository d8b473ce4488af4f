using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace UsageSlices.Client;

/// <summary>How a track is recorded.</summary>
/// <param name="IdempotencyKey">The call's key; one is generated when none is given, and kept across the call's retries.</param>
/// <param name="Enforce">Refuse (402, <see cref="UsageLimitReachedException"/>) rather than record past the limit.</param>
/// <param name="OccurredAt">When the usage happened, if not now.</param>
/// <param name="Properties">Free-form properties kept with the event (model, conversation…).</param>
public sealed record TrackOptions(
    string? IdempotencyKey = null, bool Enforce = false, DateTimeOffset? OccurredAt = null, IReadOnlyDictionary<string, string>? Properties = null);

/// <summary>
/// The UsageSlices API for a product's code: track usage, check a limit, read the limits page, and hold usage
/// whose cost is known afterwards. Registered by <see cref="ServiceCollectionExtensions.AddUsageSlicesClient"/>.
/// </summary>
public sealed class UsageSlicesClient
{
    private readonly HttpClient http;
    private readonly Microsoft.Extensions.Options.IOptions<UsageSlicesClientOptions> options;
    private readonly LimitsCache cache;

    internal UsageSlicesClient(HttpClient http, Microsoft.Extensions.Options.IOptions<UsageSlicesClientOptions> options, LimitsCache cache)
    {
        this.http = http;
        this.options = options;
        this.cache = cache;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Records <paramref name="quantity"/> of <paramref name="feature"/> for <paramref name="orgId"/>, once however often it is retried.</summary>
    /// <exception cref="UsageLimitReachedException">In enforce mode, when the quantity does not fit the limit.</exception>
    public async Task<TrackResult> TrackAsync(
        string orgId, string feature, long quantity = 1, TrackOptions? options = null, CancellationToken cancellation = default)
    {
        var tracked = await SendAsync<TrackResult>(HttpMethod.Post, $"usage/{Escape(orgId)}/track", new
        {
            feature,
            quantity,
            idempotencyKey = options?.IdempotencyKey ?? NewKey(),
            enforce = options?.Enforce ?? false,
            occurredAt = options?.OccurredAt,
            properties = options?.Properties,
        }, cancellation);
        cache.Tracked(tracked);
        return tracked;
    }

    /// <summary>
    /// Records up to 1,000 events, of any organisations the token may act for, in one call and one transaction. Each
    /// event is judged on its own: the result says which were recorded, duplicates or rejected (with their problem).
    /// </summary>
    public async Task<BatchResult> TrackBatchAsync(IEnumerable<BatchEvent> events, CancellationToken cancellation = default)
    {
        var batch = await SendAsync<BatchResult>(HttpMethod.Post, "usage/events:batch", new
        {
            events = events.Select(e => new
            {
                orgId = e.OrgId,
                feature = e.Feature,
                quantity = e.Quantity,
                idempotencyKey = e.IdempotencyKey ?? NewKey(),
                occurredAt = e.OccurredAt,
                properties = e.Properties,
            }).ToList(),
        }, cancellation);
        foreach (var result in batch.Results)
            if (result.Result is { } tracked)
                cache.Tracked(tracked);
        return batch;
    }

    /// <summary>
    /// Whether <paramref name="orgId"/> may use <paramref name="quantity"/> more of <paramref name="feature"/> now; changes
    /// nothing. With the limits cache on, it is answered from the organisation's cached page (read first if needed).
    /// When the service cannot be reached (after the retries), the answer is the feature's fail-open or fail-closed
    /// choice, marked <see cref="CheckResult.ServiceUnreachable"/>; a refusal by the service still throws.
    /// </summary>
    public async Task<CheckResult> CheckAsync(string orgId, string feature, long quantity = 1, CancellationToken cancellation = default)
    {
        try
        {
            // A quantity the service's check refuses is sent to it, for its 400.
            if (cache.Enabled && quantity is >= 1 and <= MaxCheckQuantity && (cache.Feature(orgId, feature) ?? await ReadIntoCacheAsync(orgId, feature, cancellation)) is var (page, limit))
                return CheckResult.Decide(page, limit, quantity, cache.Now);
            return await SendAsync<CheckResult>(HttpMethod.Get, $"usage/{Escape(orgId)}/check/{Escape(feature)}?quantity={quantity}", null, cancellation);
        }
        catch (Exception unreachable) when (IsUnreachable(unreachable, cancellation))
        {
            var failOpen = options.Value.FailOpen.TryGetValue(feature, out var open) ? open : options.Value.FailOpenByDefault;
            return CheckResult.Unreachable(orgId, feature, quantity, failOpen, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>No answer at all (refused or broken connections, timeouts, an open circuit) or a 5xx that outlasted the retries.</summary>
    private static bool IsUnreachable(Exception exception, CancellationToken cancellation) => exception switch
    {
        HttpRequestException or Polly.ExecutionRejectedException => true,
        TaskCanceledException => !cancellation.IsCancellationRequested,
        UsageSlicesException { Status: >= 500 } => true,
        _ => false,
    };

    /// <summary>Every feature's limit, usage and period for <paramref name="orgId"/> (from the limits cache, when it is on and holds a page within its bound).</summary>
    public async Task<LimitsResult> GetLimitsAsync(string orgId, CancellationToken cancellation = default) =>
        cache.Page(orgId) ?? await ReadLimitsAsync(orgId, cancellation);

    private async Task<LimitsResult> ReadLimitsAsync(string orgId, CancellationToken cancellation)
    {
        // The page's age is counted from before the request, so that however slow the answer, it is never older than said.
        var sentAt = cache.Now;
        var page = await SendAsync<LimitsResult>(HttpMethod.Get, $"usage/{Escape(orgId)}/limits", null, cancellation);
        cache.Store(page, sentAt);
        return page;
    }

    /// <summary>Reads the page for a check; a feature it does not list is left to the service's check (and its 400).</summary>
    private async Task<(LimitsResult Page, FeatureLimitResult Feature)?> ReadIntoCacheAsync(string orgId, string feature, CancellationToken cancellation)
    {
        var page = await ReadLimitsAsync(orgId, cancellation);
        return page.Features.FirstOrDefault(f => f.Feature == feature) is { } limit ? (page, limit) : null;
    }

    /// <summary>
    /// Holds <paramref name="estimate"/> of <paramref name="feature"/> for work whose cost is known afterwards. Dispose the
    /// returned reservation (<c>await using</c>) to release the hold if the work ends without <see cref="Reservation.CommitAsync"/>.
    /// </summary>
    /// <exception cref="UsageLimitReachedException">When the estimate does not fit beside what is used and held.</exception>
    public async Task<Reservation> ReserveAsync(
        string orgId, string feature, long estimate, TimeSpan? expiresIn = null, string? idempotencyKey = null, CancellationToken cancellation = default)
    {
        var result = await SendAsync<ReservationResult>(HttpMethod.Post, $"usage/{Escape(orgId)}/reservations", new
        {
            feature,
            quantity = estimate,
            expiresInSeconds = expiresIn is { } e ? (int?)Math.Ceiling(e.TotalSeconds) : null,
            idempotencyKey = idempotencyKey ?? NewKey(),
        }, cancellation);
        cache.Reserved(result);
        return new Reservation(this, result);
    }

    /// <summary>Records what reservation <paramref name="reservationId"/>'s work used (its estimate when <paramref name="quantity"/> is <c>null</c>) and ends the hold.</summary>
    public async Task<TrackResult> CommitAsync(string orgId, Guid reservationId, long? quantity = null, CancellationToken cancellation = default)
    {
        var committed = await SendAsync<TrackResult>(
            HttpMethod.Post, $"usage/{Escape(orgId)}/reservations/{reservationId}/commit", new { quantity }, cancellation);
        cache.Forget(orgId);
        return committed;
    }

    /// <summary>Ends reservation <paramref name="reservationId"/>'s hold without recording usage (a second release changes nothing).</summary>
    public async Task ReleaseAsync(string orgId, Guid reservationId, CancellationToken cancellation = default)
    {
        await SendAsync<JsonElement?>(HttpMethod.Delete, $"usage/{Escape(orgId)}/reservations/{reservationId}", null, cancellation);
        cache.Forget(orgId);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        using var response = await http.SendAsync(request, cancellation);
        if (response.IsSuccessStatusCode)
            return response.Content.Headers.ContentLength == 0 ? default! : (await response.Content.ReadFromJsonAsync<T>(Json, cancellation))!;

        var problem = response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json"
            ? await response.Content.ReadFromJsonAsync<UsageSlicesProblem>(Json, cancellation)
            : null;
        throw (int)response.StatusCode == 402 && problem is not null
            ? new UsageLimitReachedException(problem)
            : new UsageSlicesException((int)response.StatusCode, problem);
    }

    /// <summary>The largest quantity a check takes (api.md).</summary>
    private const long MaxCheckQuantity = 1_000_000_000;

    private static string NewKey() => Guid.CreateVersion7().ToString("N");

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}

/// <summary>A hold made by <see cref="UsageSlicesClient.ReserveAsync"/>: commit it with what the work used, or dispose it to release it.</summary>
public sealed class Reservation(UsageSlicesClient client, ReservationResult held) : IAsyncDisposable
{
    private bool ended;

    /// <summary>The hold as the service made it.</summary>
    public ReservationResult Held { get; } = held;

    /// <summary>Records what the work used (the estimate when <paramref name="quantity"/> is <c>null</c>) and ends the hold.</summary>
    public async Task<TrackResult> CommitAsync(long? quantity = null, CancellationToken cancellation = default)
    {
        var result = await client.CommitAsync(Held.OrgId, Held.ReservationId, quantity, cancellation);
        ended = true;
        return result;
    }

    /// <summary>Releases the hold unless it was committed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (ended)
            return;
        ended = true;
        await client.ReleaseAsync(Held.OrgId, Held.ReservationId);
    }
}
