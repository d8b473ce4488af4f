using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The tables, views and triggers of the service's own SQL beside Marten's: the read side of history, then the runbook's
/// views, one of which reads it, and the catalog's version with the triggers on Marten's tables that move it. One feature, so that they are applied in this order: Marten applies the features added with
/// <c>Storage.Add</c> after its document and event tables, but in no set order among themselves.
/// </summary>
public sealed class ReadModelSchema(string schema) : FeatureSchemaBase("ReadModels", new PostgresqlMigrator())
{
    protected override IEnumerable<ISchemaObject> schemaObjects() => [.. UsageHistoryTables.For(schema), .. RunbookViews.For(schema), new CatalogVersion(schema)];
}

/// <summary>
/// Read-only views named like the tables of the Node system this replaces, so that its runbook's monitoring SQL
/// (<c>SELECT COUNT(*) FROM usage_events WHERE created_at &gt; …</c>) runs unchanged, and the database's default
/// search path, so that it runs unqualified for any role that may read the views, whatever the role is named. They
/// are a feature of the schema Marten manages, so <c>db-apply</c>, <c>db-patch</c>, <c>db-assert</c> and start-up
/// handle them with everything else.
/// </summary>
public static class RunbookViews
{
    public static IEnumerable<ISchemaObject> For(string schema) =>
    [
        new RunbookView(schema, "organisations", $"""
            SELECT id,
                   data ->> 'slug' AS slug,
                   data ->> 'name' AS name,
                   data ->> 'tier' AS subscription_tier,
                   (data ->> 'createdAt')::timestamptz AS created_at
            FROM {schema}.mt_doc_organisation
            """),
        new RunbookView(schema, "subscription_tiers", $"""
            SELECT id AS code,
                   data ->> 'name' AS name,
                   (data ->> 'priceMonthly')::numeric AS price_monthly,
                   data ->> 'currency' AS currency
            FROM {schema}.mt_doc_subscriptiontier
            """),
        // From the event log, whose recorded_at is indexed (the runbook counts the last hour): usage only, as the
        // Node system's table held; corrections are in the event log and the API's history.
        new RunbookView(schema, "usage_events", $"""
            SELECT event_id AS id,
                   org_id AS organisation_id,
                   feature,
                   quantity,
                   recorded_at AS created_at
            FROM {schema}.{UsageHistoryTables.EventLog}
            WHERE type = 'usage'
            """),
        new DatabaseSearchPath(schema),
    ];
}

/// <summary>
/// <c>ALTER DATABASE … SET search_path = {schema}, "$user", public</c>: every new session of the database, of any role,
/// finds the runbook views unqualified, ahead of a <c>public</c> table of the same name left by the Node system. It
/// needs the service's role to own its database; a role that does not gets a warning with the statement to run, and
/// db-assert reports the difference.
/// </summary>
public sealed class DatabaseSearchPath(string schema) : ISchemaObject
{
    private string Setting => $"search_path={schema}, \"$user\", public";

    public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, "database_search_path", SchemaUtils.IdentifierUsage.General);

    public void WriteCreateStatement(Migrator migrator, TextWriter writer) => writer.WriteLine($"""
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I SET search_path = %I, "$user", public', current_database(), '{schema}');
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'The runbook''s SQL needs the schema on the search path; as the database''s owner run: ALTER DATABASE % SET search_path = {schema}, "$user", public', current_database();
        END $$;
        """);

    public void WriteDropStatement(Migrator migrator, TextWriter writer) => writer.WriteLine("""
        DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;
        """);

    public void ConfigureQueryCommand(Weasel.Core.DbCommandBuilder builder) =>
        builder.Append("""
            SELECT coalesce((SELECT s FROM pg_db_role_setting d, unnest(d.setconfig) s
                             WHERE d.setrole = 0 AND d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                               AND s LIKE 'search_path=%'), '');
            """);

    public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader reader, CancellationToken cancellation)
    {
        var current = await reader.ReadAsync(cancellation) ? reader.GetString(0) : "";
        var difference = current == Setting ? SchemaPatchDifference.None
            : current.Length == 0 ? SchemaPatchDifference.Create
            : SchemaPatchDifference.Update;
        return new SchemaObjectDelta(this, difference);
    }

    public IEnumerable<DbObjectName> AllNames() => [Identifier];
}

/// <summary>
/// A view whose definition is recognised by a fingerprint kept in its comment. PostgreSQL rewrites a view's SQL
/// into its own canonical text, so comparing definitions would see a change on every run and db-assert would
/// never pass; the fingerprint changes only when this code's SQL does.
/// </summary>
public sealed class RunbookView(string schema, string name, string sql) : ISchemaObject
{
    private readonly string fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql)))[..16];

    public DbObjectName Identifier { get; } = new PostgresqlObjectName(schema, name, SchemaUtils.IdentifierUsage.General);

    public void WriteCreateStatement(Migrator migrator, TextWriter writer)
    {
        writer.WriteLine($"DROP VIEW IF EXISTS {Identifier.QualifiedName};");
        writer.WriteLine($"CREATE VIEW {Identifier.QualifiedName} AS {sql};");
        writer.WriteLine($"COMMENT ON VIEW {Identifier.QualifiedName} IS 'runbook view {fingerprint}';");
    }

    public void WriteDropStatement(Migrator migrator, TextWriter writer) =>
        writer.WriteLine($"DROP VIEW IF EXISTS {Identifier.QualifiedName};");

    public void ConfigureQueryCommand(Weasel.Core.DbCommandBuilder builder)
    {
        builder.Append("SELECT coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname = ");
        builder.AppendParameter(schema);
        builder.Append(" AND c.relname = ");
        builder.AppendParameter(name);
        builder.Append(";");
    }

    public async Task<ISchemaObjectDelta> CreateDeltaAsync(DbDataReader reader, CancellationToken cancellation)
    {
        var comment = await reader.ReadAsync(cancellation) ? reader.GetString(0) : null;
        var difference = comment is null ? SchemaPatchDifference.Create
            : comment == $"runbook view {fingerprint}" ? SchemaPatchDifference.None
            : SchemaPatchDifference.Update;
        return new SchemaObjectDelta(this, difference);
    }

    public IEnumerable<DbObjectName> AllNames() => [Identifier];
}
