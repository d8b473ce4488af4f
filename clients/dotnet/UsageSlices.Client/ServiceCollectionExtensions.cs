using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace UsageSlices.Client;

/// <summary>Registers <see cref="UsageSlicesClient"/>.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds a typed <see cref="UsageSlicesClient"/>: an <see cref="HttpClient"/> from the factory, with the standard
    /// resilience handler (retries on 429, 5xx and network errors, honouring <c>Retry-After</c>; every call that
    /// writes carries an idempotency key, so its retries count once) and a bearer token on every attempt.
    /// </summary>
    public static IHttpClientBuilder AddUsageSlicesClient(this IServiceCollection services, Action<UsageSlicesClientOptions> configure)
    {
        services.AddOptions<UsageSlicesClientOptions>().Configure(configure)
            .Validate(options => options.BaseAddress is { IsAbsoluteUri: true }, "UsageSlices: BaseAddress must be an absolute address.")
            .Validate(options => options.TokenProvider is not null, "UsageSlices: a TokenProvider is required.");
        services.AddTransient<BearerTokenHandler>();
        services.AddSingleton<LimitsCache>();
        var builder = services.AddHttpClient(nameof(UsageSlicesClient), (provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<UsageSlicesClientOptions>>().Value;
            http.BaseAddress = new Uri(options.BaseAddress!, "api/v1/");
        });
        // A factory, because the client's constructor takes the cache, which is not public.
        builder.AddTypedClient((http, provider) => new UsageSlicesClient(
            http, provider.GetRequiredService<IOptions<UsageSlicesClientOptions>>(), provider.GetRequiredService<LimitsCache>()));
        builder.AddStandardResilienceHandler().Configure((HttpStandardResilienceOptions resilience, IServiceProvider provider) =>
        {
            var options = provider.GetRequiredService<IOptions<UsageSlicesClientOptions>>().Value;
            resilience.Retry.Delay = options.RetryDelay;
            resilience.Retry.MaxRetryAttempts = options.MaxRetries;
            resilience.Retry.ShouldRetryAfterHeader = true;
        });
        // Inside the retries, so that each attempt asks for its token.
        builder.AddHttpMessageHandler<BearerTokenHandler>();
        return builder;
    }
}

/// <summary>Puts the options' bearer token on each attempt.</summary>
internal sealed class BearerTokenHandler(IOptions<UsageSlicesClientOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await options.Value.TokenProvider!(cancellationToken);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}
