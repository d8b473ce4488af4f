using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// One entry of the event log, as the event list and the export show it: a usage event (<c>type</c> usage) or a
/// correction, with its audit trail — who (<paramref name="Actor"/>), when (<paramref name="RecordedAt"/>), why
/// (<paramref name="Reason"/>) — and, for a usage event that was voided, the correction that voided it.
/// </summary>
public sealed record UsageEventView(
    Guid EventId,
    string Type,
    string OrgId,
    string Feature,
    long Quantity,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    DateTimeOffset? PeriodStart,
    DateTimeOffset? PeriodEnd,
    string? IdempotencyKey,
    string? Reason,
    string? Actor,
    Guid? Voids,
    Guid? VoidedBy,
    Guid? ReservationId,
    IReadOnlyDictionary<string, string>? Properties);

/// <summary>
/// Where a page of the event log ended: the (occurredAt, eventId) of its last entry, the keyset the next page starts
/// below, so pages stay correct while events are added. Opaque to callers, and bound to the query it was issued for
/// by a checksum: a cursor that was altered, or sent with other filters, is refused rather than read as another place.
/// </summary>
public sealed record EventCursor(DateTimeOffset OccurredAt, Guid EventId)
{
    private const int Size = 8 + 16 + 8;

    public string Encode(string query)
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteInt64BigEndian(bytes, OccurredAt.UtcTicks);
        EventId.TryWriteBytes(bytes.AsSpan(8, 16), bigEndian: true, out _);
        Checksum(bytes.AsSpan(0, 24), query).CopyTo(bytes.AsSpan(24));
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The cursor <paramref name="text"/> encodes for <paramref name="query"/>, or <c>null</c> when it is not one this service issued for it.</summary>
    public static EventCursor? Decode(string text, string query)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        var bytes = new byte[Size];
        if (text.Length != 43 || !Convert.TryFromBase64String(base64 + "=", bytes, out var written) || written != Size)
            return null;
        if (!CryptographicOperations.FixedTimeEquals(Checksum(bytes.AsSpan(0, 24), query), bytes.AsSpan(24)))
            return null;
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            return null;
        return new EventCursor(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes.AsSpan(8, 16), bigEndian: true));
    }

    private static byte[] Checksum(ReadOnlySpan<byte> position, string query)
    {
        var queryBytes = Encoding.UTF8.GetBytes(query);
        var input = new byte[position.Length + queryBytes.Length];
        position.CopyTo(input);
        queryBytes.CopyTo(input.AsSpan(position.Length));
        return SHA256.HashData(input)[..8];
    }
}
