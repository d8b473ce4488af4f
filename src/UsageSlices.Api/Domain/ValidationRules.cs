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
}
