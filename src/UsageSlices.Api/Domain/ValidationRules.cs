using FluentValidation;

namespace UsageSlices.Domain;

/// <summary>Rules shared by every slice's validator.</summary>
public static class ValidationRules
{
    public const long MaxQuantity = 1_000_000_000;

    public static IRuleBuilderOptions<T, string> MustBeOrgId<T>(this IRuleBuilder<T, string> rule) =>
        rule.NotEmpty().MaximumLength(Identifiers.MaxOrgIdLength).Matches(Identifiers.OrgId())
            .WithMessage("An organisation id is 1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");

    public static IRuleBuilderOptions<T, string?> MustBeFeatureCode<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().MaximumLength(64).Matches(Identifiers.FeatureCode())
            .WithMessage("A feature code is SCREAMING_SNAKE_CASE, at most 64 characters.");

    public static IRuleBuilderOptions<T, string?> MustBeTierCode<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().MaximumLength(32).Matches(Identifiers.TierCode())
            .WithMessage("A tier code is 1-32 lowercase letters, digits, '_' or '-', starting with a letter.");

    public static bool HasNoControlCharacters(string? text) => text is null || !text.Any(char.IsControl);

    public static IRuleBuilderOptions<T, string?> MustBeIdempotencyKey<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Length(1, Identifiers.MaxIdempotencyKeyLength).Matches(Identifiers.IdempotencyKey())
            .WithMessage("An idempotency key is 1-255 printable ASCII characters.");

    public const int MaxReasonLength = 500;

    /// <summary>Why an admin changed an organisation's entitlements (a tier, an override), kept on its stream.</summary>
    public static IRuleBuilderOptions<T, string?> MustBeReason<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxReasonLength).Must(HasNoControlCharacters)
            .WithMessage($"A reason is at most {MaxReasonLength} characters without control characters.");

    public const int MaxProperties = 16;
    public const int MaxPropertyKeyLength = 64;
    public const int MaxPropertyValueLength = 256;

    /// <summary>The string properties a caller may attach to usage (a track, a reservation), kept with its event.</summary>
    public static IRuleBuilderOptions<T, IReadOnlyDictionary<string, string>?> MustBeProperties<T>(
        this IRuleBuilder<T, IReadOnlyDictionary<string, string>?> rule) =>
        rule.Must(properties => properties is null || properties.Count <= MaxProperties)
            .WithMessage($"At most {MaxProperties} properties.")
            .Must(properties => properties is null || properties.All(p => p.Key.Length is > 0 and <= MaxPropertyKeyLength
                && p.Value is { Length: <= MaxPropertyValueLength } && HasNoControlCharacters(p.Key) && HasNoControlCharacters(p.Value)))
            .WithMessage($"A property has a key of 1-{MaxPropertyKeyLength} characters and a string value of at most {MaxPropertyValueLength}, without control characters.");

    /// <summary>A time range's rules: each end within the years a range may name, and from before to when both are given.</summary>
    public static void RangeRules<T>(this AbstractValidator<T> validator)
        where T : ITimeRange
    {
        validator.RuleFor(x => x.From).Must(IsWithinRange!).When(x => x.From is not null)
            .WithMessage($"from is an ISO 8601 time from {Usage.UsageBuckets.Earliest:yyyy} to {Usage.UsageBuckets.Latest:yyyy}.");
        validator.RuleFor(x => x.To).Must(IsWithinRange!).When(x => x.To is not null)
            .WithMessage($"to is an ISO 8601 time from {Usage.UsageBuckets.Earliest:yyyy} to {Usage.UsageBuckets.Latest:yyyy}.");
        validator.RuleFor(x => x.To).Must((range, to) => to > range.From).When(x => x.From is not null && x.To is not null)
            .WithMessage("to must be after from: the range is [from, to).");
    }

    private static bool IsWithinRange(DateTimeOffset? at) => at >= Usage.UsageBuckets.Earliest && at <= Usage.UsageBuckets.Latest;
}

/// <summary>A request for a range of time [From, To), either end defaulted when left out.</summary>
public interface ITimeRange
{
    DateTimeOffset? From { get; }

    DateTimeOffset? To { get; }
}
