using System.Text.Json;
using System.Text.Json.Serialization;

namespace UsageSlices.Domain;

/// <summary>
/// One tier's limit for one feature, written in JSON as DESIGN.md shows it: a number (a quota),
/// <c>null</c> (unlimited) or <c>true</c>/<c>false</c> (a boolean feature's flag).
/// </summary>
[JsonConverter(typeof(TierLimitJsonConverter))]
public readonly record struct TierLimit
{
    private TierLimit(long? quota, bool? flag)
    {
        Max = quota;
        Enabled = flag;
    }

    /// <summary>The quota of a counted feature; <c>null</c> when unlimited or when this is a flag.</summary>
    public long? Max { get; }

    /// <summary>The flag of a boolean feature; <c>null</c> when this is a quota.</summary>
    public bool? Enabled { get; }

    public bool IsFlag => Enabled.HasValue;

    public static TierLimit Quota(long? max) => new(max, null);

    public static TierLimit Flag(bool enabled) => new(null, enabled);

    public static TierLimit NotInTier(FeatureKind kind) => kind == FeatureKind.Boolean ? Flag(false) : Quota(0);

    /// <summary>The limit of <paramref name="feature"/> in <paramref name="tier"/>; a tier that no longer exists grants nothing.</summary>
    public static TierLimit In(SubscriptionTier? tier, UsageFeature feature) => tier?.LimitOf(feature) ?? NotInTier(feature.Kind);

    public bool Fits(FeatureKind kind) => kind == FeatureKind.Boolean ? IsFlag : !IsFlag && Max is null or >= 0;
}

public sealed class TierLimitJsonConverter : JsonConverter<TierLimit>
{
    public override bool HandleNull => true;

    public override TierLimit Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => TierLimit.Quota(null),
            JsonTokenType.True => TierLimit.Flag(true),
            JsonTokenType.False => TierLimit.Flag(false),
            JsonTokenType.Number when reader.TryGetInt64(out var max) => TierLimit.Quota(max),
            _ => throw new JsonException("A limit is a whole number, null (unlimited), true or false."),
        };

    public override void Write(Utf8JsonWriter writer, TierLimit value, JsonSerializerOptions options)
    {
        if (value.Enabled is { } enabled)
            writer.WriteBooleanValue(enabled);
        else if (value.Max is { } max)
            writer.WriteNumberValue(max);
        else
            writer.WriteNullValue();
    }
}
