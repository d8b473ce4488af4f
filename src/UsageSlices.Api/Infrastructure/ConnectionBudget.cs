using Npgsql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The most connections one instance opens to PostgreSQL, whatever its load: <c>Maximum Pool Size</c>, shared between
/// Marten's and Wolverine's pool and the pool of the checks' reads (<see cref="CatalogCache"/>), plus one for the
/// readiness probe and one for the queue gauge, each a pool of one. Operators size
/// <c>max_connections</c> by it (docs/operations.md); <c>when_three_instances_share_one_postgres</c> measures it.
/// </summary>
public static class ConnectionBudget
{
    /// <summary>
    /// A transaction that waits for a hot stream's lock holds its connection, so an unbounded pool lets a burst open
    /// more connections than PostgreSQL allows. 28 per instance lets three instances, with their probes and gauges
    /// (3 × 30), fit PostgreSQL's default of 100 less its 3 superuser connections, with <see cref="LeftForOperators"/>
    /// to spare; the connection string can say otherwise.
    /// </summary>
    public const int DefaultMaxPoolSize = 28;

    /// <summary>The readiness probe's connection and the queue gauge's, each from a data source of its own.</summary>
    public const int OutsideThePool = 2;

    /// <summary>What three instances at their defaults leave of a default PostgreSQL for psql and the service's commands.</summary>
    public const int LeftForOperators = 100 - 3 - 3 * (DefaultMaxPoolSize + OutsideThePool);

    /// <summary>
    /// The share of the pool that serves the checks' reads: a read holds its connection for one round trip, where a
    /// writer holds one for a transaction, so a quarter serves as many calls as the rest.
    /// </summary>
    public static int ForReads(int maxPoolSize) => Math.Max(1, maxPoolSize / 4);

    /// <summary>What is left of the pool for Marten and Wolverine (one connection at the least).</summary>
    public static int ForWriters(int maxPoolSize) => Math.Max(1, maxPoolSize - ForReads(maxPoolSize));

    /// <summary>Marten's and Wolverine's connection string: its pool less the reads' share.</summary>
    public static string Writers(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = ForWriters(builder.MaxPoolSize);
        return builder.ConnectionString;
    }

    /// <summary>
    /// The checks' reads: their share of the pool, without Npgsql's reset when a connection goes back to it. The reset
    /// (<c>DISCARD ALL</c> and friends) is a statement of its own each time a connection is taken; it guards against
    /// session state left behind, and these connections run only <see cref="CatalogCache"/>'s reads, which leave none
    /// (no <c>SET</c>, no advisory lock, no <c>LISTEN</c>, no temporary table, no transaction left open).
    /// </summary>
    public static string Reads(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = ForReads(builder.MaxPoolSize);
        builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    /// <summary>The connections an instance with this connection string opens at most.</summary>
    public static int PerInstance(string connectionString)
    {
        var maxPoolSize = new NpgsqlConnectionStringBuilder(Persistence.WithDefaults(connectionString)).MaxPoolSize;
        return ForWriters(maxPoolSize) + ForReads(maxPoolSize) + OutsideThePool;
    }

    /// <summary>A connection string for a data source that needs one connection at a time (the probe, the gauge).</summary>
    public static string OneConnection(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString;
}
