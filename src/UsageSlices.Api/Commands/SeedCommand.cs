using JasperFx.CommandLine;
using Marten;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Commands;

[Description("Upsert the catalog's tiers and features to their defaults (idempotent, like `prisma db seed`)", Name = "seed")]
public sealed class SeedCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        using var host = await OperatorBus.StartAsync(input);
        var changed = await CatalogSeed.UpsertAllAsync(host.Services.GetRequiredService<IDocumentStore>(), CancellationToken.None);
        // The main database's catalog, seeded or not, to every other shard (nothing to do with one database).
        await host.Services.GetRequiredService<IMessageBus>().InvokeAsync(new ReplicateCatalog());
        Console.WriteLine(changed == 0
            ? "The catalog is already seeded: nothing changed."
            : $"Seeded the catalog: {changed} tier(s) and feature(s) added or restored.");
        return true;
    }
}
