using System.Collections.Concurrent;
using Marten;
using Npgsql;
using NpgsqlTypes;
using UsageSlices.Domain.Usage;

namespace UsageSlices.Infrastructure;

/// <summary>What a read of the hot path returns: the organisation's catalog and its counters, keyed by stream.</summary>
public sealed record CatalogRead(UsageCatalog Catalog, IReadOnlyDictionary<string, UsageCounter> Counters);

/// <summary>
/// The catalog of each organisation a check, a limits page or the ledger asks about (the organisation, its overrides, every feature
/// and tier), held in memory, with read-your-writes across instances: the counters are read in the same statement as
/// the <see cref="CatalogVersion"/>, and what is held is used only while that version is the one it was loaded at. So a
/// check that finds its organisation here costs one round trip of one statement (two primary-key reads); one that does
/// not, or that finds the version moved on (a tier, feature, organisation or override changed anywhere), loads the
/// catalog again before it decides. A load reads the version before the documents, so what it holds is never older
/// than the version it is kept under.
/// </summary>
public sealed class CatalogCache : IUsageCatalogs
{
    /// <summary>The key, among the services, of a shard's data source for the checks' reads (<see cref="ConnectionBudget.Reads"/>).</summary>
    public static string ReadsKeyOf(string shard) => $"usage-slices-reads:{shard}";

    /// <summary>Organisations held at one version at the most in each shard (a few hundred bytes each); beyond it, they are read each time.</summary>
    public const int MaxOrganisations = 20_000;

    private readonly Placements placements;

    /// <summary>Each shard has a catalog version of its own, so what is held is held per shard.</summary>
    private readonly IReadOnlyDictionary<string, ShardCatalogs> shards;

    public CatalogCache(DatabaseSettings database, IDocumentStore store, Placements placements, IServiceProvider services)
    {
        this.placements = placements;
        shards = database.Shards.ToDictionary(
            shard => shard.Name,
            shard => new ShardCatalogs(
                database.Schema, () => store.QuerySessionOf(database, shard.Name), store.Options.Serializer(),
                services.GetRequiredKeyedService<NpgsqlDataSource>(ReadsKeyOf(shard.Name))));
    }

    /// <summary>
    /// The catalog of <paramref name="orgId"/> as it stands now, and the counters that <paramref name="counterKeys"/>
    /// names for it (an organisation that does not exist has none), read in the organisation's shard. A catalog that
    /// must be loaded is read through a Marten session of its own, so that a check needs none when it finds its
    /// organisation here.
    /// </summary>
    public async Task<CatalogRead> ReadAsync(
        string orgId, Func<UsageCatalog, IReadOnlyCollection<string>> counterKeys, CancellationToken cancellation) =>
        await shards[await placements.ShardOfAsync(orgId, cancellation)].ReadAsync(orgId, counterKeys, cancellation);

    /// <summary>
    /// The catalog of several organisations of the session's shard (the calls of a group commit or a batch), checked
    /// against the version in one round trip when all of them are held; those that are not, or all after a change, are loaded.
    /// </summary>
    public Task<UsageCatalog> CatalogOfAsync(IQuerySession session, IReadOnlyCollection<string> orgIds, CancellationToken cancellation) =>
        shards[session.ShardOf()].CatalogOfAsync(session, orgIds, cancellation);

    private sealed class ShardCatalogs(string schema, Func<IQuerySession> openSession, ISerializer serializer, NpgsqlDataSource reads)
    {
        private sealed record Snapshot(long Version, ConcurrentDictionary<string, UsageCatalog> Organisations);

        private readonly string versionSql = $"SELECT version FROM {schema}.{CatalogVersion.Table}";
        private readonly string countersSql =
            $"SELECT v.version, c.data FROM {schema}.{CatalogVersion.Table} v LEFT JOIN {schema}.mt_doc_usagecounter c ON c.id = ANY($1)";
        private volatile Snapshot current = new(long.MinValue, new());

        public async Task<CatalogRead> ReadAsync(
            string orgId, Func<UsageCatalog, IReadOnlyCollection<string>> counterKeys, CancellationToken cancellation)
        {
            var snapshot = current;
            long? version = null;
            if (snapshot.Organisations.TryGetValue(orgId, out var held))
            {
                var (now, counters) = await CountersAsync(counterKeys(held), cancellation);
                if (now == snapshot.Version)
                    return new CatalogRead(held, counters);
                version = now;
            }

            UsageCatalog catalog;
            await using (var session = openSession())
                catalog = await LoadAsync(session, [orgId], version, cancellation);
            var keys = counterKeys(catalog);
            return new CatalogRead(catalog, keys.Count == 0 ? new Dictionary<string, UsageCounter>() : (await CountersAsync(keys, cancellation)).Counters);
        }

        public async Task<UsageCatalog> CatalogOfAsync(IQuerySession session, IReadOnlyCollection<string> orgIds, CancellationToken cancellation)
        {
            var snapshot = current;
            var version = await VersionAsync(cancellation);
            var held = version == snapshot.Version
                ? orgIds.Distinct().Select(orgId => snapshot.Organisations.GetValueOrDefault(orgId)).ToList()
                : [];
            if (held.Count > 0 && held.All(catalog => catalog is not null))
                return UsageCatalog.Merge(held!);
            return await LoadAsync(session, orgIds, version, cancellation);
        }

        /// <param name="version">The version, read before the documents, that what is loaded is kept under.</param>
        private async Task<UsageCatalog> LoadAsync(IQuerySession session, IReadOnlyCollection<string> orgIds, long? version, CancellationToken cancellation)
        {
            var at = version ?? await VersionAsync(cancellation);
            var catalog = await session.LoadCatalogAsync(orgIds, cancellation);
            foreach (var orgId in catalog.Organisations.Keys)
                Keep(at, orgId, catalog.Of(orgId));
            return catalog;
        }

        private void Keep(long version, string orgId, UsageCatalog catalog)
        {
            var snapshot = current;
            if (version > snapshot.Version)
            {
                // A newer version: what the old one held may be out of date, all of it. Two loads that race here both
                // hold what is at least as new as their version, so either may win.
                current = new Snapshot(version, new ConcurrentDictionary<string, UsageCatalog>([new(orgId, catalog)]));
                return;
            }
            if (version == snapshot.Version && snapshot.Organisations.Count < MaxOrganisations)
                snapshot.Organisations[orgId] = catalog;
        }

        private async Task<long> VersionAsync(CancellationToken cancellation)
        {
            await using var command = reads.CreateCommand(versionSql);
            return (long)(await command.ExecuteScalarAsync(cancellation))!;
        }

        private async Task<(long Version, Dictionary<string, UsageCounter> Counters)> CountersAsync(
            IReadOnlyCollection<string> keys, CancellationToken cancellation)
        {
            await using var command = reads.CreateCommand(countersSql);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            var version = 0L;
            var counters = new Dictionary<string, UsageCounter>(keys.Count);
            while (await reader.ReadAsync(cancellation))
            {
                version = reader.GetInt64(0);
                if (await reader.IsDBNullAsync(1, cancellation))
                    continue;
                var counter = await serializer.FromJsonAsync<UsageCounter>(reader, 1, cancellation);
                counters[counter.Id] = counter;
            }
            return (version, counters);
        }
    }
}
