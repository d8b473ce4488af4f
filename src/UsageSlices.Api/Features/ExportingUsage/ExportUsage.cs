using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentValidation;
using Marten;
using Microsoft.Extensions.Options;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ExportingUsage;

public enum ExportFormat
{
    Ndjson,
    Csv,
}

/// <summary>Every organisation's usage events and corrections recorded in [<paramref name="From"/>, <paramref name="To"/>), for billing.</summary>
public sealed record ExportUsage(DateTimeOffset? From, DateTimeOffset? To, string? Format) : ITimeRange
{
    public sealed class Validator : AbstractValidator<ExportUsage>
    {
        public Validator()
        {
            RuleFor(x => x.From).NotNull().WithMessage("from is required: the export covers what was recorded in [from, to).");
            RuleFor(x => x.To).NotNull().WithMessage("to is required: the export covers what was recorded in [from, to).");
            RuleFor(x => x.Format).Must(format => format is "ndjson" or "csv").When(x => x.Format is not null)
                .WithMessage("format is ndjson or csv.");
            this.RangeRules();
        }
    }
}

/// <summary>An export the caller may have, to be written as the response streams.</summary>
public sealed record UsageExport(DateTimeOffset From, DateTimeOffset To, ExportFormat Format);

public static class ExportUsageHandler
{
    /// <summary>Decides only: the rows are read as the response is written (<see cref="UsageExportResult"/>), never held.</summary>
    public static Outcome<UsageExport> Handle(ExportUsage command) => new UsageExport(
        command.From!.Value.ToUniversalTime(), command.To!.Value.ToUniversalTime(), command.Format == "csv" ? ExportFormat.Csv : ExportFormat.Ndjson);
}

/// <summary>
/// Writes the export as PostgreSQL returns its rows, through the response's pipe, flushing every few hundred rows:
/// memory holds a row and a buffer, not the export. Each row is written as the event list shows it: the same SQL,
/// the same JSON options.
/// </summary>
public sealed class UsageExportResult(UsageExport export) : IResult
{
    private const int RowsPerFlush = 500;

    /// <summary>The export's order, as PostgreSQL sorts it: by when recorded, then by event id (a uuid's order is its text's).</summary>
    private static readonly IComparer<UsageEventView> RecordedOrder = Comparer<UsageEventView>.Create((a, b) =>
        a.RecordedAt != b.RecordedAt ? a.RecordedAt.CompareTo(b.RecordedAt) : string.CompareOrdinal(a.EventId.ToString(), b.EventId.ToString()));

    private static readonly string[] CsvColumns =
    [
        "eventId", "type", "orgId", "feature", "quantity", "occurredAt", "recordedAt", "periodStart", "periodEnd",
        "idempotencyKey", "reason", "actor", "voids", "voidedBy", "reservationId", "properties",
    ];

    public async Task ExecuteAsync(HttpContext http)
    {
        var json = http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        // With shards, every shard's rows, merged into the order each gives them in (recorded, then event id).
        await using var rows = http.RequestServices.GetRequiredService<IDocumentStore>().MergeAsync(
            http.RequestServices.GetRequiredService<DatabaseSettings>(), session => session.ExportAsync(export.From, export.To, http.RequestAborted),
            RecordedOrder, http.RequestAborted).GetAsyncEnumerator(http.RequestAborted);
        // The query runs before a byte is written: a database that cannot answer is a 503 problem, not a 200 cut short.
        var more = await rows.MoveNextAsync();

        var extension = export.Format == ExportFormat.Csv ? "csv" : "ndjson";
        http.Response.ContentType = export.Format == ExportFormat.Csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
        http.Response.Headers.ContentDisposition =
            $"attachment; filename=\"usage-{export.From.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{export.To.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.{extension}\"";
        var pipe = http.Response.BodyWriter;
        await using var writer = new Utf8JsonWriter(pipe, new JsonWriterOptions { Encoder = json.Encoder, SkipValidation = true });
        if (export.Format == ExportFormat.Csv)
            Write(pipe, string.Join(',', CsvColumns) + "\r\n");

        for (var written = 1; more; written++)
        {
            if (export.Format == ExportFormat.Csv)
            {
                Write(pipe, CsvLine(rows.Current, json));
            }
            else
            {
                JsonSerializer.Serialize(writer, rows.Current, json);
                writer.Flush();
                writer.Reset();
                Write(pipe, "\n");
            }

            if (written % RowsPerFlush == 0)
                await pipe.FlushAsync(http.RequestAborted);
            more = await rows.MoveNextAsync();
        }

        await pipe.FlushAsync(http.RequestAborted);
    }

    private static void Write(IBufferWriter<byte> pipe, string text) => Encoding.UTF8.GetBytes(text, pipe);

    private static string CsvLine(UsageEventView row, JsonSerializerOptions json) => string.Join(',', new[]
    {
        row.EventId.ToString(), row.Type, Text(row.OrgId), row.Feature, row.Quantity.ToString(CultureInfo.InvariantCulture),
        Time(row.OccurredAt), Time(row.RecordedAt), Time(row.PeriodStart), Time(row.PeriodEnd), Text(row.IdempotencyKey),
        Text(row.Reason), Text(row.Actor), row.Voids?.ToString() ?? "", row.VoidedBy?.ToString() ?? "", row.ReservationId?.ToString() ?? "",
        row.Properties is null ? "" : Text(JsonSerializer.Serialize(row.Properties, json)),
    }) + "\r\n";

    private static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>
    /// A caller's text as one CSV field (RFC 4180 quoting), defused for spreadsheets: a field that starts like a
    /// formula (= + - @) gets a leading apostrophe, so opening the export cannot run what a caller wrote.
    /// </summary>
    private static string Text(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var safe = text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;
        return safe.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{safe.Replace("\"", "\"\"")}\"" : safe;
    }
}

public static class ExportUsageEndpoint
{
    public static void MapExportUsage(this IEndpointRouteBuilder api) =>
        api.MapGet("/usage/export", (HttpContext http, DateTimeOffset? from, DateTimeOffset? to, string? format) =>
                http.Send<ExportUsage, UsageExport>(new ExportUsage(from, to, format), export => new UsageExportResult(export)))
            .ActsForNoOrganisation(Scopes.Admin)
            // The schema of one line (of NDJSON; the CSV's columns are its fields).
            .Produces<UsageEventView>(StatusCodes.Status200OK, "application/x-ndjson", "text/csv")
            .WithName("ExportUsage")
            .WithSummary("Every organisation's usage events and corrections recorded in [from, to), streamed as NDJSON or CSV (admin).");
}
