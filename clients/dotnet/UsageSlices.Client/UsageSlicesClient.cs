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
public sealed class UsageSlicesClient(HttpClient http, Microsoft.Extensions.Options.IOptions<UsageSlicesClientOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Records <paramref name="quantity"/> of <paramref name="feature"/> for <paramref name="orgId"/>, once however often it is retried.</summary>
    /// <exception cref="UsageLimitReachedException">In enforce mode, when the quantity does not fit the limit.</exception>
    public Task<TrackResult> TrackAsync(string orgId, string feature, long quantity = 1, TrackOptions? options = null, CancellationToken cancellation = default) =>
        SendAsync<TrackResult>(HttpMethod.Post, $"usage/{Escape(orgId)}/track", new
        {
            feature,
            quantity,
            idempotencyKey = options?.IdempotencyKey ?? NewKey(),
            enforce = options?.Enforce ?? false,
            occurredAt = options?.OccurredAt,
            properties = options?.Properties,
        }, cancellation);

    /// <summary>
    /// Whether <paramref name="orgId"/> may use <paramref name="quantity"/> more of <paramref name="feature"/> now; changes
    /// nothing. When the service cannot be reached (after the retries), the answer is the feature's fail-open or
    /// fail-closed choice, marked <see cref="CheckResult.ServiceUnreachable"/>; a refusal by the service still throws.
    /// </summary>
    public async Task<CheckResult> CheckAsync(string orgId, string feature, long quantity = 1, CancellationToken cancellation = default)
    {
        try
        {
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

    /// <summary>Every feature's limit, usage and period for <paramref name="orgId"/>.</summary>
    public Task<LimitsResult> GetLimitsAsync(string orgId, CancellationToken cancellation = default) =>
        SendAsync<LimitsResult>(HttpMethod.Get, $"usage/{Escape(orgId)}/limits", null, cancellation);

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
        return new Reservation(this, result);
    }

    /// <summary>Records what reservation <paramref name="reservationId"/>'s work used (its estimate when <paramref name="quantity"/> is <c>null</c>) and ends the hold.</summary>
    public Task<TrackResult> CommitAsync(string orgId, Guid reservationId, long? quantity = null, CancellationToken cancellation = default) =>
        SendAsync<TrackResult>(HttpMethod.Post, $"usage/{Escape(orgId)}/reservations/{reservationId}/commit", new { quantity }, cancellation);

    /// <summary>Ends reservation <paramref name="reservationId"/>'s hold without recording usage (a second release changes nothing).</summary>
    public async Task ReleaseAsync(string orgId, Guid reservationId, CancellationToken cancellation = default) =>
        await SendAsync<JsonElement?>(HttpMethod.Delete, $"usage/{Escape(orgId)}/reservations/{reservationId}", null, cancellation);

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
