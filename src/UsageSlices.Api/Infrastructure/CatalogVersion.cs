using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Weasel.Core;
using Weasel.Postgresql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// One row holding a number that every committed change to what a decision reads besides its counter (organisations,
/// overrides, tiers, features) moves on: <see cref="CatalogCache"/> reads it beside the counter and trusts what it
/// holds in memory only while the number is the one it loaded at, so a change made through any instance is seen by the
/// next check on every other. Triggers move it, not the slices, so that no write path (a seed, a rebuild of the
/// organisations' projection, an operator's SQL) can forget to: a deferred row trigger does it at commit (its row lock
/// is held for the commit only, and the new number becomes visible with the change itself), and a statement trigger
/// does it for <c>TRUNCATE</c>, which row triggers do not see.
/// </summary>
public sealed class CatalogVersion(string schema) : ISchemaObject
{
    public const string Table = "usage_catalog_version";
    private const string Function = "usage_catalog_changed";

    /// <summary>Marten's tables of the documents a decision reads besides the counter.</summary>
    public static readonly IReadOnlyList<string> WatchedTables =
        ["mt_doc_organisation", "mt_doc_limitoverride", "mt_doc_subscriptiontier", "mt_doc_usagefeature"];

    private string Sql => $"""
        CREATE TABLE IF NOT EXISTS {schema}.{Table} (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
        -- Starts at the clock's microseconds, so that a table made again never repeats a number an instance still holds.
        INSERT INTO {schema}.{Table} VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) ON CONFLICT DO NOTHING;
        CREATE OR REPLACE FUNCTION {schema}.{Function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {schema}.{Table} SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END $$;
        {string.Concat(WatchedTables.Select(table => $"""
            DROP TRIGGER IF EXISTS {Function} ON {schema}.{table};
            CREATE CONSTRAINT TRIGGER {Function} AFTER INSERT OR UPDATE OR DELETE ON {schema}.{table}
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}.{Function}();
            CREATE OR REPLACE TRIGGER {Function}_truncate AFTER TRUNCATE ON {schema}.{table}
                FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{Function}();

            """))}
        """;

    private string Fingerprint => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)))[..16];

    public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, Table, SchemaUtils.IdentifierUsage.General);

    public void WriteCreateStatement(Migrator migrator, TextWriter writer)
    {
        writer.WriteLine(Sql);
        writer.WriteLine($"COMMENT ON TABLE {schema}.{Table} IS 'catalog version {Fingerprint}';");
    }

    public void WriteDropStatement(Migrator migrator, TextWriter writer)
    {
        foreach (var table in WatchedTables)
        {
            writer.WriteLine($"DROP TRIGGER IF EXISTS {Function} ON {schema}.{table};");
            writer.WriteLine($"DROP TRIGGER IF EXISTS {Function}_truncate ON {schema}.{table};");
        }
        writer.WriteLine($"DROP FUNCTION IF EXISTS {schema}.{Function}();");
        writer.WriteLine($"DROP TABLE IF EXISTS {schema}.{Table};");
    }

    /// <summary>The table's fingerprint and how many of the triggers exist: a Marten table made again without them is an update.</summary>
    public void ConfigureQueryCommand(Weasel.Core.DbCommandBuilder builder)
    {
        builder.Append("SELECT coalesce(obj_description(c.oid, 'pg_class'), ''), (SELECT count(*) FROM pg_trigger t JOIN pg_class w ON w.oid = t.tgrelid WHERE w.relnamespace = n.oid AND t.tgname LIKE '");
        builder.Append(Function);
        builder.Append("%') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = ");
        builder.AppendParameter(schema);
        builder.Append(" AND c.relname = ");
        builder.AppendParameter(Table);
        builder.Append(";");
    }

    public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader reader, CancellationToken cancellation)
    {
        if (!await reader.ReadAsync(cancellation))
            return new SchemaObjectDelta(this, SchemaPatchDifference.Create);
        var current = reader.GetString(0) == $"catalog version {Fingerprint}" && reader.GetInt64(1) == 2 * WatchedTables.Count;
        return new SchemaObjectDelta(this, current ? SchemaPatchDifference.None : SchemaPatchDifference.Update);
    }

    public IEnumerable<DbObjectName> AllNames() => [Identifier];
}
