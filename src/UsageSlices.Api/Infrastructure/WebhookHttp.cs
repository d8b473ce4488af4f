using System.Net;
using System.Net.Sockets;
using UsageSlices.Domain.Webhooks;

namespace UsageSlices.Infrastructure;

/// <summary>The HTTP client webhooks are sent with, from <see cref="IHttpClientFactory"/>.</summary>
public static class WebhookHttp
{
    public const string ClientName = "webhooks";

    /// <summary>
    /// No redirects (a receiver could redirect to an inside address), the configured timeout, and the SSRF rule
    /// applied when the socket connects, to the addresses it connects to: a name that resolved to a public address at
    /// registration and resolves to a private one now (DNS rebinding) is refused here.
    /// </summary>
    public static IServiceCollection AddWebhookHttp(this IServiceCollection services, WebhookSettings settings)
    {
        services.AddHttpClient(ClientName, client => client.Timeout = settings.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectCallback = async (context, cancellation) =>
                {
                    var host = context.DnsEndPoint.Host;
                    var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellation);
                    if (!settings.AllowPrivateNetworks && addresses.FirstOrDefault(WebhookAddresses.IsPrivate) is { } inside)
                        throw new HttpRequestException($"{host} resolves to {inside}, a loopback, private, link-local or metadata address; not sent (Webhooks:AllowPrivateNetworks is off).");
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellation);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            });
        return services;
    }
}
