using System.Net;
using System.Net.Sockets;

namespace UsageSlices.Tests.Support;

/// <summary>
/// A TCP proxy in front of a service that, for its first <c>dropAnswers</c> connections, lets the request
/// through, waits for the service's answer, and then closes the client's connection without passing the answer on:
/// the service did the work (and committed it) but the caller sees only a broken connection, as after a network
/// fault. Later connections pass both ways.
/// </summary>
public sealed class DroppingProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Uri target;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private int dropsLeft;

    public DroppingProxy(Uri target, int dropAnswers)
    {
        this.target = target;
        dropsLeft = dropAnswers;
        listener.Start();
        accepting = AcceptAsync();
    }

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    /// <summary>How many answers the proxy has swallowed so far.</summary>
    public int Dropped { get; private set; }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = ServeAsync(client, Interlocked.Decrement(ref dropsLeft) >= 0);
        }
    }

    private async Task ServeAsync(TcpClient client, bool drop)
    {
        using (client)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(target.Host, target.Port, stop.Token);
            var toServer = client.GetStream().CopyToAsync(server.GetStream(), stop.Token);
            if (drop)
            {
                // The answer's first bytes prove the service has finished (and committed) the call.
                var buffer = new byte[1];
                await server.GetStream().ReadExactlyAsync(buffer, stop.Token);
                Dropped++;
                client.Client.LingerState = new LingerOption(true, 0); // a reset, not a graceful close
                return;
            }
            await Task.WhenAny(toServer, server.GetStream().CopyToAsync(client.GetStream(), stop.Token));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}
