using Npgsql;

namespace UsageSlices.Tests.Support;

/// <summary>A fingerprint of every row the service keeps (documents, events, streams, the read side of history): equal snapshots mean nothing changed.</summary>
public static class DatabaseSnapshot
{
    public static async Task<IReadOnlyDictionary<string, string>> TakeAsync(string schema, CancellationToken cancellation)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "select table_name from information_schema.tables where table_schema = @schema and table_type = 'BASE TABLE' " +
            "and (table_name like 'mt_%' or table_name like 'usage_%') and table_name <> 'mt_event_progression' order by table_name", connection))
        {
            list.Parameters.AddWithValue("schema", schema);
            await using var reader = await list.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
                tables.Add(reader.GetString(0));
        }

        var snapshot = new Dictionary<string, string>();
        foreach (var table in tables)
        {
            await using var digest = new NpgsqlCommand(
                $"select coalesce(md5(string_agg(t::text, '|' order by t::text)), 'empty') from {schema}.{table} t", connection);
            snapshot[table] = (string)(await digest.ExecuteScalarAsync(cancellation))!;
        }

        return snapshot;
    }
}
