using JasperFx.CommandLine;
using Marten;
using UsageSlices.Features.ListingShards;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

[Description("List the service's databases (the main one, then Database:Shards) with the organisations each holds", Name = "shards")]
public sealed class ShardsCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        // The read is the handler's, called directly: starting Wolverine would first migrate every database's message
        // tables, and stop at the first one that does not answer, the very one this command is asked to show.
        using var host = input.BuildHost();
        var services = host.Services;
        var outcome = await ListShardsHandler.Handle(
            new ListShards(), services.GetRequiredService<IDocumentStore>(), services.GetRequiredService<DatabaseSettings>(), CancellationToken.None);
        var shards = outcome.Value!.Shards;

        Console.WriteLine($"{"shard",-32} {"organisations",13}  database");
        foreach (var shard in shards)
            Console.WriteLine($"{shard.Name,-32} {(shard.Organisations?.ToString() ?? "-"),13}  {shard.Database}{(shard.Problem is null ? "" : $"  (not answering: {shard.Problem})")}");
        // An operator's script can tell that a shard did not answer.
        return shards.All(shard => shard.Problem is null);
    }
}
