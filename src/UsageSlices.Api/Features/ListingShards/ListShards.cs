using Marten;
using Npgsql;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingShards;

/// <summary>Every database of the service with the organisations it holds, asked one by one, each in its own session.</summary>
public sealed record ListShards;

/// <summary>One database: its name, where it is, and its organisations, or why it did not answer.</summary>
public sealed record ShardView(string Name, string Database, long? Organisations, string? Problem);

public sealed record ListShardsReply(IReadOnlyList<ShardView> Shards);

public static class ListShardsHandler
{
    public static async Task<Outcome<ListShardsReply>> Handle(ListShards query, IDocumentStore store, DatabaseSettings database, CancellationToken cancellation) =>
        new ListShardsReply(await Task.WhenAll(database.Shards.Select(shard => CountAsync(store, database, shard, cancellation))));

    private static async Task<ShardView> CountAsync(IDocumentStore store, DatabaseSettings database, Shard shard, CancellationToken cancellation)
    {
        var connection = new NpgsqlConnectionStringBuilder(shard.ConnectionString);
        var where = $"{connection.Database}@{connection.Host}:{connection.Port}";
        try
        {
            await using var session = store.QuerySessionOf(database, shard.Name);
            return new ShardView(shard.Name, where, await session.Query<Organisation>().CountAsync(cancellation), null);
        }
        // Marten wraps what Npgsql raised (a refused connection, a timeout, a missing database) in a command failure.
        catch (Exception failure) when ((failure as NpgsqlException ?? failure.InnerException as NpgsqlException) is { } unreachable)
        {
            return new ShardView(shard.Name, where, null, unreachable.Message);
        }
    }
}
