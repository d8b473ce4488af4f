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

    /// <summary>
    /// What a check answers, per feature code, when the service cannot be reached after the retries: <c>true</c> lets
    /// the work go ahead (fail open), <c>false</c> refuses it (fail closed). A feature not named here uses
    /// <see cref="FailOpenByDefault"/>. Either way the result says so (<see cref="CheckResult.ServiceUnreachable"/>).
    /// </summary>
    public Dictionary<string, bool> FailOpen { get; } = [];

    /// <summary>Whether a check of a feature not in <see cref="FailOpen"/> fails open; <c>false</c> unless set.</summary>
    public bool FailOpenByDefault { get; set; }

    /// <summary>
    /// Turns on this instance's cache of limits pages (off when <c>null</c>, the default). Checks and limits pages are
    /// then answered from a page read at most this long ago (the bound holds from when its request was sent), with this
    /// instance's own tracks and holds since written into it; usage by other instances shows up within the bound. A
    /// check answered so says <see cref="CheckResult.FromCache"/>. Tracks and reservations always go to the service,
    /// so enforcement stays exact.
    /// </summary>
    public TimeSpan? LimitsCacheMaxStaleness { get; set; }

    /// <summary>
    /// Which organisation a request to the product's own routes acts for (a claim of its user, say), for
    /// <see cref="FeatureEndpointFilter.RequireFeature{TBuilder}"/>; <c>null</c> from it refuses the request with 403.
    /// </summary>
    public Func<Microsoft.AspNetCore.Http.HttpContext, string?>? OrganisationOf { get; set; }

    /// <summary>The clock the limits cache ages its pages by.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
