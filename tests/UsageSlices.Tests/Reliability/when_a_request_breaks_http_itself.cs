using System.Net.Sockets;
using System.Text;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>
/// What Kestrel answers while it parses a request, before the service's pipeline runs: a bare status line, no problem
/// body (docs/reliability.md says why), and the connection closed. Raw bytes over TCP, since HttpClient refuses to
/// send most of these.
/// </summary>
[Collection(nameof(AppCollection))]
public sealed class when_a_request_breaks_http_itself(RunningService running) : IClassFixture<RunningService>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, int> Requests => new()
    {
        { "a request line over 8 KiB", $"GET /api/v1/tiers?pad={new string('x', 8_200)} HTTP/1.1\r\nHost: localhost\r\n\r\n", 414 },
        { "headers over 32 KiB in all", $"GET /api/v1/tiers HTTP/1.1\r\nHost: localhost\r\nX-Pad: {new string('x', 33_000)}\r\n\r\n", 431 },
        { "more than 100 headers", "GET /api/v1/tiers HTTP/1.1\r\nHost: localhost\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-H{i}: 1\r\n")) + "\r\n", 431 },
        { "a malformed request line", "GET  /api/v1/tiers HTTP/1.1\r\nHost: localhost\r\n\r\n", 400 },
        { "an unknown HTTP version", "GET /api/v1/tiers HTTP/7.1\r\nHost: localhost\r\n\r\n", 505 },
        { "no Host header in HTTP/1.1", "GET /api/v1/tiers HTTP/1.1\r\n\r\n", 400 },
        { "a header line without a colon", "GET /api/v1/tiers HTTP/1.1\r\nHost: localhost\r\nBroken\r\n\r\n", 400 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task kestrel_answers_with_a_bare_status_and_closes_the_connection(string _, string request, int status)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(running.Service.BaseAddress.Host, running.Service.BaseAddress.Port, Cancel);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Cancel);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var answer = await RawHttp.ReadToEndAsync(stream, deadline.Token);

        answer.ShouldStartWith($"HTTP/1.1 {status} ");
        answer.ShouldContain("Connection: close");
        answer.ShouldContain("Content-Length: 0");
    }
}
