using System.Diagnostics;

namespace UsageSlices.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of its own (Debian's pg_createcluster, on port 5439 unless told) that a test may stop and
/// start to play a database outage without disturbing the database every other test uses. Needs root and Debian's
/// postgresql-common, as the README's set-up provides; elsewhere the tests that use it are skipped.
/// </summary>
/// <param name="cluster">The cluster's name, and its database's: tests that may run at once use clusters of their own.</param>
public sealed class ThrowawayPostgres(string cluster = "usage_outage", int port = 5439) : IAsyncDisposable
{
    private readonly string version = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(Path.GetFileName).OrderBy(v => int.TryParse(v, out var n) ? n : 0).Last()!
        : "";

    public static bool IsAvailable =>
        Environment.UserName == "root" && File.Exists("/usr/bin/pg_createcluster") && Directory.Exists("/usr/lib/postgresql")
        && Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is null;

    public string ConnectionString => $"Host=localhost;Port={port};Database={cluster};Username=usage_slices;Password=usage_slices";

    public async Task CreateAsync()
    {
        await RunAsync("pg_dropcluster", "--stop", version, cluster).ContinueWith(_ => { });
        await RunAsync("pg_createcluster", version, cluster, "-p", port.ToString(), "--start");
        await RunAsync("runuser", "-u", "postgres", "--", "psql", "-p", port.ToString(), "-q", "-c", "CREATE ROLE usage_slices LOGIN PASSWORD 'usage_slices'");
        await RunAsync("runuser", "-u", "postgres", "--", "createdb", "-p", port.ToString(), "-O", "usage_slices", cluster);
    }

    /// <summary>Stops PostgreSQL the way a crash would (immediate mode: no checkpoint, connections cut).</summary>
    public Task StopAsync() => RunAsync("pg_ctlcluster", version, cluster, "stop", "-m", "immediate");

    public Task StartAsync() => RunAsync("pg_ctlcluster", version, cluster, "start");

    public async ValueTask DisposeAsync() => await RunAsync("pg_dropcluster", "--stop", version, cluster);

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
