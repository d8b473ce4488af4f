using Marten;
using UsageSlices.Domain.Usage;

namespace UsageSlices.Infrastructure;

/// <summary>A usage event of the log with the usage stream it was appended to, which a void appends to as well.</summary>
public sealed record LoggedEvent(UsageEventView Event, string Stream);

/// <summary>What one hour counted (of one property value, when grouped).</summary>
public sealed record HourQuantity(DateTimeOffset Hour, string? Value, long Quantity);

/// <summary>
/// The queries of the read side (<see cref="UsageHistoryTables"/>), in the session's own connection and transaction.
/// Every reader of the log — the event list, a void, the export — maps a row through <see cref="ViewOf"/>, so they
/// show the same thing. Times are written as UTC text in SQL, whatever the session's time zone.
/// </summary>
public static class UsageHistoryReads
{
    private static string Utc(string column) => $"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

    private static string ViewOf(string schema) => $"""
        jsonb_build_object(
            'eventId', e.event_id, 'type', e.type, 'orgId', e.org_id, 'feature', e.feature, 'quantity', e.quantity,
            'occurredAt', {Utc("e.occurred_at")}, 'recordedAt', {Utc("e.recorded_at")},
            'periodStart', {Utc("e.period_start")}, 'periodEnd', {Utc("e.period_end")},
            'idempotencyKey', e.idempotency_key, 'reason', e.reason, 'actor', e.actor, 'voids', e.voids,
            'voidedBy', (SELECT v.event_id FROM {schema}.{UsageHistoryTables.EventLog} v WHERE v.voids = e.event_id),
            'reservationId', e.reservation_id, 'properties', e.properties)
        """;

    private static string Schema(IQuerySession session) => session.DocumentStore.Options.DatabaseSchemaName;

    /// <summary>
    /// Up to <paramref name="limit"/> entries of the organisation's log with <c>occurredAt</c> in [from, to), newest
    /// first, below <paramref name="after"/>: an index range scan of (org, [feature,] occurredAt, eventId), as fast deep as on the first page.
    /// </summary>
    public static Task<IReadOnlyList<UsageEventView>> PageAsync(
        this IQuerySession session, string orgId, string? feature, DateTimeOffset from, DateTimeOffset to, EventCursor? after, int limit,
        CancellationToken cancellation)
    {
        var schema = Schema(session);
        var parameters = new List<object> { orgId, from, to };
        var sql = $"SELECT {ViewOf(schema)} FROM {schema}.{UsageHistoryTables.EventLog} e WHERE e.org_id = ? AND e.occurred_at >= ? AND e.occurred_at < ?";
        if (feature is not null)
        {
            sql += " AND e.feature = ?";
            parameters.Add(feature);
        }

        if (after is not null)
        {
            sql += " AND (e.occurred_at, e.event_id) < (?, ?)";
            parameters.AddRange([after.OccurredAt, after.EventId]);
        }

        sql += $" ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT {limit}";
        return session.AdvancedSql.QueryAsync<UsageEventView>(sql, cancellation, [.. parameters]);
    }

    /// <summary>One entry of the log by its id, with its stream; read in the caller's transaction (a void reads it under its lock).</summary>
    public static async Task<LoggedEvent?> FindEventAsync(this IQuerySession session, Guid eventId, CancellationToken cancellation)
    {
        var schema = Schema(session);
        var found = await session.AdvancedSql.QueryAsync<LoggedEvent>(
            $"SELECT jsonb_build_object('event', {ViewOf(schema)}, 'stream', e.stream) FROM {schema}.{UsageHistoryTables.EventLog} e WHERE e.event_id = ?",
            cancellation, eventId);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>What each hour of [from, to) counted of one feature, from the rollup: a read of at most one row per hour, whatever the number of events.</summary>
    public static Task<IReadOnlyList<HourQuantity>> HoursAsync(
        this IQuerySession session, string orgId, string feature, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellation)
    {
        var schema = Schema(session);
        return session.AdvancedSql.QueryAsync<HourQuantity>(
            $"""
            SELECT jsonb_build_object('hour', {Utc("h.hour")}, 'quantity', h.quantity)
            FROM {schema}.{UsageHistoryTables.Hourly} h
            WHERE h.org_id = ? AND h.feature = ? AND h.hour >= ? AND h.hour < ?
            """,
            cancellation, orgId, feature, from, to);
    }

    /// <summary>
    /// What each hour of [from, to) counted of one feature, per value of property <paramref name="key"/> (<c>null</c>
    /// for events without it, and for corrections other than voids, which carry their event's properties): from the
    /// log, so it reads every event of the range.
    /// </summary>
    public static Task<IReadOnlyList<HourQuantity>> HoursByPropertyAsync(
        this IQuerySession session, string orgId, string feature, DateTimeOffset from, DateTimeOffset to, string key, CancellationToken cancellation)
    {
        var schema = Schema(session);
        return session.AdvancedSql.QueryAsync<HourQuantity>(
            $"""
            SELECT jsonb_build_object('hour', {Utc("hour")}, 'value', value, 'quantity', quantity)
            FROM (SELECT date_trunc('hour', e.occurred_at, 'UTC') AS hour, e.properties ->> ? AS value, sum(e.quantity) AS quantity
                  FROM {schema}.{UsageHistoryTables.EventLog} e
                  WHERE e.org_id = ? AND e.feature = ? AND e.occurred_at >= ? AND e.occurred_at < ?
                  GROUP BY 1, 2) grouped
            """,
            cancellation, key, orgId, feature, from, to);
    }

    /// <summary>
    /// Every entry of every organisation's log recorded in [from, to), oldest first, as the reader reaches it: the
    /// rows stream from PostgreSQL through the caller, so memory stays flat however many there are.
    /// </summary>
    public static IAsyncEnumerable<UsageEventView> ExportAsync(
        this IQuerySession session, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellation)
    {
        var schema = Schema(session);
        return session.AdvancedSql.StreamAsync<UsageEventView>(
            $"""
            SELECT {ViewOf(schema)} FROM {schema}.{UsageHistoryTables.EventLog} e
            WHERE e.recorded_at >= ? AND e.recorded_at < ?
            ORDER BY e.recorded_at, e.event_id
            """,
            cancellation, from, to);
    }
}
