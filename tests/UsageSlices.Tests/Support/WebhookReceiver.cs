using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace UsageSlices.Tests.Support;

/// <summary>One request a receiver got: its headers as sent, its body, and when it arrived.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, DateTimeOffset ReceivedAt);

/// <summary>
/// A real HTTP receiver of webhooks for the tests: Kestrel on a free loopback port. It answers each request with the
/// next status queued by <see cref="AnswerWith"/> (200 once they run out), and keeps every request it got.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<int> answers = new();
    private readonly ConcurrentQueue<ReceivedWebhook> received = new();
    private int holdFirst;

    private WebhookReceiver(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public IReadOnlyList<ReceivedWebhook> Received => [.. received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, new Uri($"http://127.0.0.1:{port}/hooks"));
        app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            receiver.received.Enqueue(new ReceivedWebhook(
                http.Request.Headers["webhook-id"].ToString(), http.Request.Headers["webhook-timestamp"].ToString(),
                http.Request.Headers["webhook-signature"].ToString(), body, DateTimeOffset.UtcNow));
            // A held request is never answered: its sender waits until it gives up or dies.
            if (Interlocked.Exchange(ref receiver.holdFirst, 0) == 1)
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { });
            http.Response.StatusCode = receiver.answers.TryDequeue(out var status) ? status : StatusCodes.Status200OK;
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>The next request is kept (and recorded) but never answered.</summary>
    public void HoldNextRequest() => Interlocked.Exchange(ref holdFirst, 1);

    /// <summary>The statuses the next requests are answered with, in order.</summary>
    public void AnswerWith(params int[] statuses)
    {
        foreach (var status in statuses)
            answers.Enqueue(status);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
