using JasperFx.CommandLine;
using UsageSlices.Features.ReportingUsageStats;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

[Description("Print the runbook's monitoring figures: organisations by tier, usage events in the last hour and 24 hours", Name = "stats")]
public sealed class StatsCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        using var host = await OperatorBus.StartAsync(input);
        var stats = (await host.Services.InvokeAsync<GetUsageStats, UsageStats>(new GetUsageStats(), CancellationToken.None)).Value!;

        Console.WriteLine($"Organisations: {stats.Organisations}");
        foreach (var (tier, count) in stats.OrganisationsByTier)
            Console.WriteLine($"  {tier,-12} {count,8}");
        Console.WriteLine($"Usage events in the last hour: {stats.EventsLastHour}; in the last 24 hours: {stats.EventsLast24Hours}");
        foreach (var feature in stats.Features)
            Console.WriteLine($"  {feature.Feature,-18} {feature.EventsLastHour,8} {feature.EventsLast24Hours,10}");
        return true;
    }
}
