using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace UsageSlices.Infrastructure;

/// <summary>The <c>RateLimiting</c> section. The limit holds per organisation and per instance of the service.</summary>
public sealed class RateLimitSettings
{
    /// <summary>Requests per second each organisation may make to one instance; 0 turns the limiter off.</summary>
    public int PermitsPerSecond { get; set; } = 1_000;

    /// <summary>How many requests an organisation may send at once before the rate applies.</summary>
    public int Burst { get; set; } = 2_000;

    /// <summary>
    /// Batches one instance records at once. Batches over many organisations share usage streams, so their
    /// transactions run one after another on the stream locks anyway; admitting more at once only holds more
    /// parsed bodies in memory. Two keep one batch deciding while the other waits on PostgreSQL.
    /// </summary>
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>Batches that may wait for a slot; the next one is refused (429).</summary>
    public int QueuedBatches { get; set; } = 256;
}

public static class RateLimiting
{
    /// <summary>The policy of the batch route: a few batches at a time per instance, the others queue.</summary>
    public const string Batches = "batches";

    /// <summary>
    /// ASP.NET Core's token-bucket limiter, partitioned by organisation (the one the route declares it acts on, else the token's), so one
    /// tenant's burst cannot starve the others. Refusals are 429 problem+json with Retry-After.
    /// </summary>
    public static IServiceCollection AddUsageRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("RateLimiting").Get<RateLimitSettings>() ?? new RateLimitSettings();
        return services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (settings.PermitsPerSecond <= 0)
                    return RateLimitPartition.GetNoLimiter(string.Empty);
                var organisation = http.RouteOrganisation() ?? http.Caller().OrgId;
                if (organisation is null)
                    return RateLimitPartition.GetNoLimiter(string.Empty);
                return RateLimitPartition.GetTokenBucketLimiter(organisation, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(settings.Burst, settings.PermitsPerSecond),
                    TokensPerPeriod = settings.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.AddConcurrencyLimiter(Batches, batches =>
            {
                batches.PermitLimit = settings.ConcurrentBatches;
                batches.QueueLimit = settings.QueuedBatches;
                batches.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            options.OnRejected = async (context, cancellation) =>
            {
                var http = context.HttpContext;
                // Only the organisation's token bucket says when a permit comes back; the batch queue's concurrency
                // limiter cannot, so a refusal without it is the batch queue's.
                var fromTokenBucket = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
                var retryAfter = fromTokenBucket ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = fromTokenBucket
                            ? $"This organisation is over its request rate on this instance; retry after {seconds} s."
                            : $"{settings.QueuedBatches} batches are already waiting on this instance; retry after {seconds} s.",
                    },
                });
            };
        });
    }
}
