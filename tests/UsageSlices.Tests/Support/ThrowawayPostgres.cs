using System.Diagnostics;

namespace UsageSlices.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of its own (Debian's pg_createcluster, on port 5439) that a test may stop and start to
/// play a database outage without disturbing the database every other test uses. Needs root and Debian's
/// postgresql-common, as the README's set-up provides; elsewhere the tests that use it are skipped.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private const string Cluster = "usage_outage";
    private const int Port = 5439;
    private readonly string version = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(Path.GetFileName).OrderBy(v => int.TryParse(v, out var n) ? n : 0).Last()!
        : "";

    public static bool IsAvailable =>
        Environment.UserName == "root" && File.Exists("/usr/bin/pg_createcluster") && Directory.Exists("/usr/lib/postgresql")
        && Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is null;

    public string ConnectionString => $"Host=localhost;Port={Port};Database=usage_outage;Username=usage_slices;Password=usage_slices";

    public async Task CreateAsync()
    {
        await RunAsync("pg_dropcluster", "--stop", version, Cluster).ContinueWith(_ => { });
        await RunAsync("pg_createcluster", version, Cluster, "-p", Port.ToString(), "--start");
        await RunAsync("runuser", "-u", "postgres", "--", "psql", "-p", Port.ToString(), "-q", "-c", "CREATE ROLE usage_slices LOGIN PASSWORD 'usage_slices'");
        await RunAsync("runuser", "-u", "postgres", "--", "createdb", "-p", Port.ToString(), "-O", "usage_slices", "usage_outage");
    }

    /// <summary>Stops PostgreSQL the way a crash would (immediate mode: no checkpoint, connections cut).</summary>
    public Task StopAsync() => RunAsync("pg_ctlcluster", version, Cluster, "stop", "-m", "immediate");

    public Task StartAsync() => RunAsync("pg_ctlcluster", version, Cluster, "start");

    public async ValueTask DisposeAsync() => await RunAsync("pg_dropcluster", "--stop", version, Cluster);

    private static async Task RunAsync(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }
}
