using System.Text.Json;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using UsageSlices.Domain.Usage;
using Weasel.Core;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The read side of history, the event log and export (docs/architecture.md, "The read side of history"): every usage
/// event and correction as a row of a flat, indexed table, and what each (organisation, feature, hour) counted as a
/// row of a rollup. Written by <see cref="UsageHistoryProjection"/> in the transaction of the events, so they are
/// never behind the counters. Managed with the rest of Marten's schema (<see cref="ReadModelSchema"/>: db-apply,
/// db-assert); created on a database that already holds events, they are filled from the event store in the same migration.
/// </summary>
public static class UsageHistoryTables
{
    public const string EventLog = "usage_event_log";
    public const string Hourly = "usage_hourly";

    /// <summary>A time from the event store's JSON, its digits past the microsecond cut as <see cref="UsageHistoryProjection.Microseconds"/> cuts them.</summary>
    private static string Cut(string text) => $@"regexp_replace({text}, '(\.\d{{6}})\d+', '\1')::timestamptz";

    public static IEnumerable<ISchemaObject> For(string schema)
    {
        var log = new FilledTable(new PostgresqlObjectName(schema, EventLog, SchemaUtils.IdentifierUsage.General), $"""
            INSERT INTO {schema}.{EventLog} (event_id, type, org_id, feature, quantity, occurred_at, recorded_at, period_start, period_end,
                                            idempotency_key, reason, actor, voids, reservation_id, properties, stream)
            SELECT coalesce(e.data ->> 'eventId', e.data ->> 'correctionId')::uuid,
                   CASE e.type WHEN 'usage_recorded' THEN 'usage' ELSE 'correction' END,
                   e.data ->> 'orgId', e.data ->> 'feature', (e.data ->> 'quantity')::bigint,
                   {Cut("e.data ->> 'occurredAt'")}, {Cut("e.data ->> 'recordedAt'")},
                   (e.data ->> 'periodStart')::timestamptz, (e.data ->> 'periodEnd')::timestamptz,
                   e.data ->> 'idempotencyKey', e.data ->> 'reason', e.data ->> 'actor', (e.data ->> 'voids')::uuid,
                   (e.data ->> 'reservationId')::uuid, nullif(e.data -> 'properties', 'null'::jsonb), e.stream_id
            FROM {schema}.mt_events e
            WHERE e.type IN ('usage_recorded', 'usage_corrected')
            ON CONFLICT DO NOTHING;
            """);
        log.AddColumn<Guid>("event_id").AsPrimaryKey();
        log.AddColumn<string>("type").NotNull();
        log.AddColumn<string>("org_id").NotNull();
        log.AddColumn<string>("feature").NotNull();
        log.AddColumn<long>("quantity").NotNull();
        log.AddColumn<DateTimeOffset>("occurred_at").NotNull();
        log.AddColumn<DateTimeOffset>("recorded_at").NotNull();
        log.AddColumn<DateTimeOffset>("period_start");
        log.AddColumn<DateTimeOffset>("period_end");
        log.AddColumn<string>("idempotency_key");
        log.AddColumn<string>("reason");
        log.AddColumn<string>("actor");
        log.AddColumn<Guid>("voids");
        log.AddColumn<Guid>("reservation_id");
        log.AddColumn("properties", "jsonb");
        log.AddColumn<string>("stream").NotNull();
        // The event log's pages, newest first, with and without a feature; export's range by recordedAt (and the
        // runbook's created_at count); a void's lookup of whether an event was voided already.
        log.Indexes.Add(new IndexDefinition($"ix_{EventLog}_org") { Columns = ["org_id", "occurred_at", "event_id"] });
        log.Indexes.Add(new IndexDefinition($"ix_{EventLog}_feature") { Columns = ["org_id", "feature", "occurred_at", "event_id"] });
        log.Indexes.Add(new IndexDefinition($"ix_{EventLog}_recorded") { Columns = ["recorded_at", "event_id"] });
        log.Indexes.Add(new IndexDefinition($"ux_{EventLog}_voids") { Columns = ["voids"], IsUnique = true, Predicate = "voids IS NOT NULL" });

        var hourly = new FilledTable(new PostgresqlObjectName(schema, Hourly, SchemaUtils.IdentifierUsage.General), $"""
            INSERT INTO {schema}.{Hourly} (org_id, feature, hour, quantity)
            SELECT org_id, feature, date_trunc('hour', occurred_at, 'UTC'), sum(quantity)
            FROM {schema}.{EventLog}
            GROUP BY 1, 2, 3
            ON CONFLICT DO NOTHING;
            """);
        hourly.AddColumn<string>("org_id").AsPrimaryKey();
        hourly.AddColumn<string>("feature").AsPrimaryKey();
        hourly.AddColumn<DateTimeOffset>("hour").AsPrimaryKey();
        hourly.AddColumn<long>("quantity").NotNull();
        return [log, hourly];
    }

    /// <summary>A table that, when it is created, is filled from what the database holds already.</summary>
    private sealed class FilledTable(DbObjectName name, string fill) : Table(name)
    {
        public override void WriteCreateStatement(Migrator migrator, TextWriter writer)
        {
            base.WriteCreateStatement(migrator, writer);
            writer.WriteLine(fill);
        }
    }
}

/// <summary>
/// An inline projection: at each SaveChangesAsync that appends usage or corrections, one statement inserts them into
/// the event log and adds what it inserted to the hourly rollup, whatever the number of events (a group commit of
/// 256 tracks costs one statement more, not 512). The rollup adds in SQL (<c>quantity = quantity + excluded</c>), so
/// it is exact whichever transaction commits first, and only what the log did not hold yet, so replaying events
/// (<c>projections rebuild</c>) counts none twice.
/// </summary>
public sealed class UsageHistoryProjection(string schema) : IProjection
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // Summed per hour before the upsert: one statement may not update a row twice. The stream locks already serialise
    // the writers of an hour (an hour lies in one period, so in one usage stream).
    private readonly string record = $"""
        WITH inserted AS (
            INSERT INTO {schema}.{UsageHistoryTables.EventLog} (event_id, type, org_id, feature, quantity, occurred_at, recorded_at,
                period_start, period_end, idempotency_key, reason, actor, voids, reservation_id, properties, stream)
            SELECT * FROM jsonb_to_recordset(?::jsonb) AS r(event_id uuid, type text, org_id text, feature text, quantity bigint,
                occurred_at timestamptz, recorded_at timestamptz, period_start timestamptz, period_end timestamptz, idempotency_key text,
                reason text, actor text, voids uuid, reservation_id uuid, properties jsonb, stream text)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING org_id, feature, occurred_at, quantity)
        INSERT INTO {schema}.{UsageHistoryTables.Hourly} AS h (org_id, feature, hour, quantity)
        SELECT org_id, feature, date_trunc('hour', occurred_at, 'UTC'), sum(quantity) FROM inserted GROUP BY 1, 2, 3
        ON CONFLICT (org_id, feature, hour) DO UPDATE SET quantity = h.quantity + excluded.quantity
        """;

    private sealed record LogRow(
        Guid EventId, string Type, string OrgId, string Feature, long Quantity, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt,
        DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd, string? IdempotencyKey, string? Reason, string? Actor, Guid? Voids,
        Guid? ReservationId, IReadOnlyDictionary<string, string>? Properties, string Stream);

    /// <summary>
    /// PostgreSQL keeps microseconds and rounds finer text to the nearest one, which could carry an event stamped in
    /// the last half microsecond of an hour into the next hour (and period) than the one its stream counts it in.
    /// Cut, never rounded up, an instant stays in its hour: every boundary is a whole microsecond.
    /// </summary>
    public static DateTimeOffset Microseconds(DateTimeOffset instant) => instant.AddTicks(-(instant.UtcTicks % 10));

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var rows = new List<LogRow>();
        foreach (var @event in events)
        {
            if (@event.Data is UsageRecorded recorded)
            {
                rows.Add(new LogRow(
                    recorded.EventId, UsageEventTypes.Usage, recorded.OrgId, recorded.Feature, recorded.Quantity, Microseconds(recorded.OccurredAt),
                    Microseconds(recorded.RecordedAt), recorded.PeriodStart, recorded.PeriodEnd, recorded.IdempotencyKey, null, null, null,
                    recorded.ReservationId, recorded.Properties, @event.StreamKey!));
            }
            else if (@event.Data is UsageCorrected corrected)
            {
                rows.Add(new LogRow(
                    corrected.CorrectionId, UsageEventTypes.Correction, corrected.OrgId, corrected.Feature, corrected.Quantity,
                    Microseconds(corrected.OccurredAt), Microseconds(corrected.RecordedAt), corrected.PeriodStart, corrected.PeriodEnd, corrected.IdempotencyKey,
                    corrected.Reason, corrected.Actor, corrected.Voids, null, corrected.Properties, @event.StreamKey!));
            }
        }

        if (rows.Count == 0)
            return Task.CompletedTask;

        operations.QueueSqlCommand(record, JsonSerializer.Serialize(rows, Json));
        return Task.CompletedTask;
    }
}
