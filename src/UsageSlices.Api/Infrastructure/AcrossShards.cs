using System.Runtime.CompilerServices;
using Marten;

namespace UsageSlices.Infrastructure;

/// <summary>A shard that did not answer a read over every organisation: the whole read fails, naming it, rather than a total silently short.</summary>
public sealed class ShardUnavailableException(string shard, Exception cause)
    : Exception($"Shard '{shard}' cannot be reached; retry shortly.", cause)
{
    public string Shard { get; } = shard;
}

/// <summary>
/// The reads over many organisations (stats, the organisations list, the export): each shard answers its part in a
/// session of its own, at the same time, and the caller combines the parts (docs/scaling.md). With one database
/// there is one part, the read as it always was.
/// </summary>
public static class AcrossShards
{
    public static async Task<IReadOnlyList<T>> ReadAsync<T>(
        this IDocumentStore store, DatabaseSettings database, Func<IQuerySession, Task<T>> read, CancellationToken cancellation) =>
        await Task.WhenAll(database.Shards.Select(async shard =>
        {
            await using var session = store.QuerySessionOf(database, shard.Name);
            return await Naming(shard.Name, () => read(session), cancellation);
        }));

    /// <summary>
    /// Every shard's stream, each in <paramref name="order"/> already, merged into one in that order as the reader
    /// reaches it: each shard's query has started (and answered) before the first item is returned.
    /// </summary>
    public static async IAsyncEnumerable<T> MergeAsync<T>(
        this IDocumentStore store, DatabaseSettings database, Func<IQuerySession, IAsyncEnumerable<T>> read, IComparer<T> order,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        var sessions = new List<IQuerySession>();
        var cursors = new List<IAsyncEnumerator<T>>();
        try
        {
            var next = new PriorityQueue<IAsyncEnumerator<T>, T>(order);
            foreach (var shard in database.Shards)
            {
                var session = store.QuerySessionOf(database, shard.Name);
                sessions.Add(session);
                var cursor = read(session).GetAsyncEnumerator(cancellation);
                cursors.Add(cursor);
                if (await Naming(shard.Name, async () => await cursor.MoveNextAsync(), cancellation))
                    next.Enqueue(cursor, cursor.Current);
            }

            while (next.TryDequeue(out var cursor, out var item))
            {
                yield return item;
                if (await cursor.MoveNextAsync())
                    next.Enqueue(cursor, cursor.Current);
            }
        }
        finally
        {
            foreach (var cursor in cursors)
                await cursor.DisposeAsync();
            foreach (var session in sessions)
                await session.DisposeAsync();
        }
    }

    private static async Task<T> Naming<T>(string shard, Func<Task<T>> read, CancellationToken cancellation)
    {
        try
        {
            return await read();
        }
        catch (Exception exception) when (ProblemHandling.IsDatabaseUnavailable(exception) && !cancellation.IsCancellationRequested)
        {
            throw new ShardUnavailableException(shard, exception);
        }
    }
}
