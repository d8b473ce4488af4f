using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using UsageSlices.Domain;

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

    /// <summary>Batches that may wait for one of those slots, from all organisations; the next one is refused (429).</summary>
    public int QueuedBatches { get; set; } = 256;

    /// <summary>Batches of one organisation recorded (or waiting for an instance slot) at once, so that one tenant cannot hold every slot.</summary>
    public int ConcurrentBatchesPerOrganisation { get; set; } = 1;

    /// <summary>Batches of one organisation that may wait behind its running one; the next one is refused (429).</summary>
    public int QueuedBatchesPerOrganisation { get; set; } = 32;

    /// <summary>
    /// The slowest a batch body may arrive, after a grace period: Kestrel cuts an upload slower than this, so a
    /// dribbled or idle body holds a connection for seconds, not for ever (Kestrel's default is 240 B/s).
    /// </summary>
    public double MinBatchBodyBytesPerSecond { get; set; } = 4_096;
}

/// <summary>
/// The slots batches are recorded in: per organisation (the caller's; an admin token's own subject) and then per
/// instance, each a concurrency limiter with a bounded queue. A slot is taken only once the body has been read, so an
/// upload that dribbles in holds a connection but never a slot that another organisation's batch waits for.
/// </summary>
public sealed class BatchSlots(RateLimitSettings settings) : IDisposable
{
    private readonly PartitionedRateLimiter<Caller> limiter = PartitionedRateLimiter.CreateChained(
        PartitionedRateLimiter.Create<Caller, string>(caller => RateLimitPartition.GetConcurrencyLimiter(
            caller.OrgId ?? $"subject:{caller.Subject}",
            _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = settings.ConcurrentBatchesPerOrganisation,
                QueueLimit = settings.QueuedBatchesPerOrganisation,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            })),
        PartitionedRateLimiter.Create<Caller, string>(_ => RateLimitPartition.GetConcurrencyLimiter(
            string.Empty,
            _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = settings.ConcurrentBatches,
                QueueLimit = settings.QueuedBatches,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            })));

    public ValueTask<RateLimitLease> AcquireAsync(Caller caller, CancellationToken cancellation) => limiter.AcquireAsync(caller, 1, cancellation);

    /// <summary>429 problem+json with <c>Retry-After</c>, as the per-organisation rate limiter answers.</summary>
    public static IResult Refused(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many requests",
            Detail = "Too many batches are already waiting on this instance, for this organisation or in all; retry after 1 s.",
        });
    }

    public void Dispose() => limiter.Dispose();
}

/// <summary>Endpoint metadata: its request body must arrive at <see cref="RateLimitSettings.MinBatchBodyBytesPerSecond"/> at least.</summary>
public sealed class MinimumBodyRate;

public static class RateLimiting
{
    /// <summary>Applies a route's <see cref="MinimumBodyRate"/> before its body is read (Kestrel enforces it; a test server has none).</summary>
    public static IApplicationBuilder UseMinimumBodyRates(this IApplicationBuilder app)
    {
        var rate = new MinDataRate(app.ApplicationServices.GetRequiredService<RateLimitSettings>().MinBatchBodyBytesPerSecond, TimeSpan.FromSeconds(5));
        return app.Use((http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<MinimumBodyRate>() is not null
                && http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } feature)
                feature.MinDataRate = rate;
            return next(http);
        });
    }

    /// <summary>
    /// ASP.NET Core's token-bucket limiter, partitioned by organisation (the one the route declares it acts on, else the token's), so one
    /// tenant's burst cannot starve the others. Refusals are 429 problem+json with Retry-After.
    /// </summary>
    public static IServiceCollection AddUsageRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("RateLimiting").Get<RateLimitSettings>() ?? new RateLimitSettings();
        services.AddSingleton(settings);
        services.AddSingleton<BatchSlots>();
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
            options.OnRejected = async (context, cancellation) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
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
                        Detail = $"This organisation is over its request rate on this instance; retry after {seconds} s.",
                    },
                });
            };
        });
    }
}
