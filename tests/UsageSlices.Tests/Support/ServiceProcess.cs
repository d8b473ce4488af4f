using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using UsageSlices.Infrastructure;

namespace UsageSlices.Tests.Support;

/// <summary>
/// The service as operators run it: its own OS process (the published build when the Cake Test task provides one,
/// else this test run's build of it), Production settings, listening on a free loopback port.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> output = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> transcript = new();
    private Process? process;

    /// <param name="settings">More configuration, as environment variables (<c>Webhooks__AllowPrivateNetworks</c>).</param>
    public ServiceProcess(string schema, string? connectionString = null, string? signingKey = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        SigningKey = signingKey ?? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        ManagementAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = connectionString ?? AppFixture.ConnectionString,
            ["Database__Schema"] = schema,
            ["Auth__SigningKey"] = SigningKey,
            ["ASPNETCORE_URLS"] = BaseAddress.ToString(),
            ["Management__Urls"] = ManagementAddress.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            environment[key] = value;
    }

    public string SigningKey { get; }

    public Uri BaseAddress { get; }

    /// <summary>Where <c>/metrics</c> listens (<c>Management:Urls</c>): a port of its own per process, so processes never collide.</summary>
    public Uri ManagementAddress { get; }

    public TokenIssuer Tokens => new(new AuthSettings { SigningKey = SigningKey }, TimeProvider.System);

    /// <summary>
    /// The published service when the build provides it, else the API project's own build output (not the copy
    /// in this test folder, where JasperFx would scan the test runner's assemblies for commands).
    /// </summary>
    public static string ApiAssembly =>
        Environment.GetEnvironmentVariable("USAGE_SLICES_PUBLISHED_API") is { Length: > 0 } published
            ? published
            : Path.GetFullPath(AppContext.BaseDirectory.Replace(
                Path.Combine("tests", "UsageSlices.Tests"), Path.Combine("src", "UsageSlices.Api")) + "UsageSlices.Api.dll");

    /// <summary>Starts the process and returns once /health/ready answers Healthy.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        var start = new ProcessStartInfo("dotnet", [ApiAssembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(ApiAssembly)!,
        };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => Remember(line.Data);
        process.ErrorDataReceived += (_, line) => Remember(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The service exited at start with code {process.ExitCode}:\n{string.Join('\n', output)}");
            try
            {
                using var ready = await client.GetAsync("/health/ready", cancellation);
                if (ready.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
            {
            }

            await Task.Delay(100, cancellation);
        }

        throw new TimeoutException("The service did not become ready within 60 s.");
    }

    /// <summary>Runs one of the service's commands (<c>seed</c>, <c>db-apply</c>…) to completion with this service's settings.</summary>
    public Task<(int ExitCode, string Output)> RunCommandAsync(string environmentName, params string[] arguments) =>
        RunCommandAsync(environmentName, new Dictionary<string, string>(), arguments);

    public async Task<(int ExitCode, string Output)> RunCommandAsync(
        string environmentName, IReadOnlyDictionary<string, string> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [ApiAssembly, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(ApiAssembly)!,
        };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environmentName;
        foreach (var (key, value) in settings)
            start.Environment[key] = value;
        using var command = Process.Start(start)!;
        var output = command.StandardOutput.ReadToEndAsync();
        var error = command.StandardError.ReadToEndAsync();
        await command.WaitForExitAsync();
        return (command.ExitCode, await output + await error);
    }

    /// <summary>One call to a service process, as a product makes it: JSON body (if any) and a bearer token.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string token, object? body)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>The process's resident set size now, from <c>/proc</c>: what the operating system gives it, heap and all.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{process!.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; whatever was in memory is gone.</summary>
    public void Kill()
    {
        process?.Kill(entireProcessTree: true);
        process?.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
    }

    /// <summary>Everything the process (and its runs since this object was made) wrote, for tests of what is logged.</summary>
    public string Transcript => string.Join('\n', transcript);

    /// <summary>Keeps the last lines the process wrote, to explain a failed start, and the whole transcript.</summary>
    private void Remember(string? line)
    {
        if (line is null)
            return;
        transcript.Enqueue(line);
        output.Enqueue(line);
        while (output.Count > 40)
            output.TryDequeue(out _);
    }

    /// <summary>
    /// A free loopback port below the kernel's ephemeral range. A port the kernel hands out for port 0 comes from
    /// that range, which is also where every outgoing connection (Npgsql's, by the dozen) gets its local port, so
    /// one of them could take it before the service binds it (seen once: "address already in use" at start).
    /// Ports below the range are never given to outgoing connections.
    /// </summary>
    private static int FreePort()
    {
        var ephemeralLow = File.Exists(EphemeralRange)
            ? int.Parse(File.ReadAllText(EphemeralRange).Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture)
            : 32768;
        while (true)
        {
            var port = Random.Shared.Next(10_000, ephemeralLow);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another one.
            }
        }
    }

    private const string EphemeralRange = "/proc/sys/net/ipv4/ip_local_port_range";
}
