using JasperFx.CommandLine;
using Wolverine.Runtime;

namespace UsageSlices.Commands;

/// <summary>
/// The operator commands that send their work through Wolverine (validation, transaction, retries), as the HTTP
/// routes do. In such a process Wolverine runs as a mediator only: no node of the cluster, no inbox or outbox
/// agents, so a short-lived command never takes over the service's queued messages; and only Wolverine is started,
/// not the web server, so a command runs beside a service on the same port.
/// </summary>
public static class OperatorBus
{
    private static readonly string[] Commands = ["assign-tier", "seed", "shards", "stats"];

    public static bool IsRunningIn(string[] args) => args.Length > 0 && Commands.Contains(args[0], StringComparer.OrdinalIgnoreCase);

    public static async Task<IHost> StartAsync(NetCoreInput input)
    {
        var host = input.BuildHost();
        await ((IHostedService)host.Services.GetRequiredService<IWolverineRuntime>()).StartAsync(CancellationToken.None);
        return host;
    }
}
