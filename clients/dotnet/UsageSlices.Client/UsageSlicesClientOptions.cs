namespace UsageSlices.Client;

/// <summary>Where the service is and how the client authenticates to it.</summary>
public sealed class UsageSlicesClientOptions
{
    /// <summary>The service's address, for example <c>https://usage.internal/</c>; the client adds <c>api/v1/</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>Returns the bearer token for a call (asked for each attempt, so a token that expires between retries is renewed).</summary>
    public Func<CancellationToken, ValueTask<string>>? TokenProvider { get; set; }

    /// <summary>The first retry's delay on a 429, a 503 or a network error, unless the service's <c>Retry-After</c> says otherwise; later ones back off.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many times a call is retried before its error reaches the caller.</summary>
    public int MaxRetries { get; set; } = 3;
}
