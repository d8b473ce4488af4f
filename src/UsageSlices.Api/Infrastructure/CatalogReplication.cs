using Marten;
using UsageSlices.Domain;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;
using Wolverine.Runtime.Handlers;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Copy the main database's tiers and features to every other shard (docs/scaling.md), so that a track or a check
/// decides inside its organisation's database. Sent at start-up and after each change of the catalog.
/// </summary>
public sealed record ReplicateCatalog;

/// <summary>The main database's tiers and features as they stood at its catalog version <paramref name="Version"/>, for one shard to hold.</summary>
public sealed record ApplyCatalog(long Version, IReadOnlyList<SubscriptionTier> Tiers, IReadOnlyList<UsageFeature> Features);

/// <summary>The catalog version of the main database whose tiers and features a shard holds.</summary>
public sealed record CatalogReplica(string Id, long Version)
{
    public const string Key = "catalog";
}

public static class ReplicateCatalogHandler
{
    /// <summary>The durable local queue of the replications that follow a change, so that one survives a crash or a shard that is down.</summary>
    public const string LocalQueue = "catalog-replication";

    public static void RouteCatalogReplication(this WolverineOptions options) =>
        options.PublishMessage<ReplicateCatalog>().ToLocalQueue(LocalQueue).UseDurableInbox();

    /// <summary>A shard that cannot be reached is tried again later, for as long as it takes.</summary>
    public static void Configure(HandlerChain chain) =>
        chain.OnException(ProblemHandling.IsDatabaseUnavailable)
            .ScheduleRetryIndefinitely(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2));

    /// <summary>
    /// Reads the version before the tiers and features, so what is sent is at least as new as the version it carries;
    /// each change sends its own replication after it commits, so the last one a shard applies holds every change.
    /// </summary>
    public static async Task Handle(
        ReplicateCatalog message, IQuerySession main, IMessageBus bus, DatabaseSettings database, CancellationToken cancellation)
    {
        if (!database.Sharded)
            return;
        var version = (await main.QueryAsync<long>($"SELECT version FROM {database.Schema}.{CatalogVersion.Table}", cancellation)).Single();
        var catalog = new ApplyCatalog(
            version,
            await main.Query<SubscriptionTier>().ToListAsync(cancellation),
            await main.Query<UsageFeature>().ToListAsync(cancellation));
        foreach (var shard in database.Shards.Where(shard => shard.Name != Shards.Main))
            await bus.InvokeForTenantAsync(shard.Name, catalog, cancellation);
    }

    /// <summary>
    /// Holds the catalog unless the shard holds one as new already (replications race, and one may arrive late). Two
    /// that arrive together both find the older replica: Marten's version check on it lets one commit and retries the other.
    /// </summary>
    public static async Task<IMartenOp[]> Handle(ApplyCatalog message, IDocumentSession shard, CancellationToken cancellation)
    {
        var replica = await shard.LoadAsync<CatalogReplica>(CatalogReplica.Key, cancellation);
        if (replica?.Version >= message.Version)
            return [];
        var held = new CatalogReplica(CatalogReplica.Key, message.Version);
        return [MartenOps.StoreMany(message.Tiers.ToArray()), MartenOps.StoreMany(message.Features.ToArray()), replica is null ? MartenOps.Insert(held) : MartenOps.Update(held)];
    }
}

/// <summary>
/// At start-up, before the service takes calls, every shard gets the main database's catalog: the defaults seeded
/// there, and any change made while a shard or this instance was down.
/// </summary>
public sealed class CatalogReplicationAtStart(IMessageBus bus, ILogger<CatalogReplicationAtStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await bus.InvokeAsync(new ReplicateCatalog(), cancellationToken);
        }
        catch (Exception exception) when (ProblemHandling.IsDatabaseUnavailable(exception))
        {
            logger.LogWarning(exception, "A shard could not be given the catalog at start-up; it will be tried again");
            await bus.PublishAsync(new ReplicateCatalog());
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
