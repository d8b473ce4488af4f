using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Read-only views named like the tables of the Node system this replaces, so that its runbook's monitoring SQL
/// (<c>SELECT COUNT(*) FROM usage_events WHERE created_at &gt; …</c>) runs unchanged. They are a feature of the
/// schema Marten manages, so <c>db-apply</c>, <c>db-patch</c>, <c>db-assert</c> and start-up handle them with
/// everything else; added with <c>Storage.Add</c>, they are applied after the document and event tables they read.
/// </summary>
public sealed class RunbookViews(string schema) : FeatureSchemaBase("RunbookViews", new PostgresqlMigrator())
{
    protected override IEnumerable<ISchemaObject> schemaObjects() =>
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
        new RunbookView(schema, "usage_events", $"""
            SELECT id,
                   data ->> 'orgId' AS organisation_id,
                   data ->> 'feature' AS feature,
                   (data ->> 'quantity')::bigint AS quantity,
                   timestamp AS created_at
            FROM {schema}.mt_events
            WHERE type = 'usage_recorded'
            """),
    ];
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
