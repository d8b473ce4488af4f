using System.Net;
using System.Net.Sockets;

namespace UsageSlices.Domain.Webhooks;

/// <summary>Where a webhook may be sent: the SSRF rule, checked when an endpoint is registered and again before each delivery.</summary>
public static class WebhookAddresses
{
    public const int MaxUrlLength = 2_000;

    /// <summary>Loopback, private (RFC 1918, unique-local), link-local (which holds the clouds' metadata service), shared, unspecified or multicast.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;

        var b = address.GetAddressBytes();
        return b[0] switch
        {
            0 or 10 or 127 => true,
            100 => b[1] is >= 64 and <= 127,
            169 => b[1] == 254,
            172 => b[1] is >= 16 and <= 31,
            192 => b[1] == 168 || (b[1] == 0 && b[2] == 0),
            198 => b[1] is 18 or 19,
            >= 224 => true,
            _ => false,
        };
    }

    /// <summary>The shape of an endpoint's URL, or why it cannot be one.</summary>
    public static string? ShapeProblem(string url, bool allowPrivateNetworks)
    {
        if (url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            return $"url must be an absolute http or https URL of at most {MaxUrlLength:N0} characters.";
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && allowPrivateNetworks))
            return allowPrivateNetworks ? "url must use http or https." : "url must use https (Webhooks:AllowPrivateNetworks allows http).";
        if (uri.UserInfo.Length > 0)
            return "url must not carry a user name or password; the signature authenticates the service.";
        return null;
    }

    /// <summary>
    /// Resolves the URL's host and refuses it when any of its addresses is private, unless private networks are
    /// allowed: a name that resolves to one public and one private address could reach either.
    /// </summary>
    public static async Task<string?> AddressProblemAsync(string url, bool allowPrivateNetworks, CancellationToken cancellation)
    {
        if (allowPrivateNetworks)
            return null;
        var host = new Uri(url).IdnHost;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellation);
        }
        catch (SocketException)
        {
            return $"url's host '{host}' does not resolve.";
        }

        return addresses.Length == 0 ? $"url's host '{host}' does not resolve."
            : addresses.FirstOrDefault(IsPrivate) is { } inside ? $"url's host resolves to {inside}, a loopback, private, link-local or metadata address (Webhooks:AllowPrivateNetworks is off)."
            : null;
    }
}
