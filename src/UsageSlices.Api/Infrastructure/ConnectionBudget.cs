using Npgsql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The most connections one instance opens to PostgreSQL, whatever its load: Marten's and Wolverine's pool (one data
/// source), plus one for the readiness probe and one for the queue gauge, each a pool of one. Operators size
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

    /// <summary>The connections an instance with this connection string opens at most.</summary>
    public static int PerInstance(string connectionString) =>
        new NpgsqlConnectionStringBuilder(Persistence.WithDefaults(connectionString)).MaxPoolSize + OutsideThePool;

    /// <summary>A connection string for a data source that needs one connection at a time (the probe, the gauge).</summary>
    public static string OneConnection(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString;
}
