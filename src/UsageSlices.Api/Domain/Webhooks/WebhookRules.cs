using System.Text.Json;
using FluentValidation;

namespace UsageSlices.Domain.Webhooks;

/// <summary>A field of a PATCH body: left out (unchanged), <c>null</c> (cleared), a value, or of the wrong JSON type.</summary>
public readonly record struct Patch(bool IsGiven, string? Value, bool IsWrongType)
{
    public static Patch Read(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Undefined => default,
        JsonValueKind.Null => new(true, null, false),
        JsonValueKind.String => new(true, element.GetString(), false),
        _ => new(true, null, true),
    };

    public string? Or(string? current) => IsGiven ? Value : current;
}

/// <summary>The shape rules an endpoint's fields follow, whether it is registered or changed.</summary>
public static class WebhookRules
{
    public const int MaxDescriptionLength = 500;

    public static IRuleBuilderOptionsConditions<T, string?> MustBeWebhookUrl<T>(this IRuleBuilder<T, string?> rule, WebhookSettings settings) =>
        rule.Custom((url, context) =>
        {
            if (WebhookAddresses.ShapeProblem(url ?? "", settings.AllowPrivateNetworks) is { } problem)
                context.AddFailure(context.PropertyPath, problem);
        });

    public static IRuleBuilderOptions<T, IReadOnlyList<string>?> MustBeEventTypes<T>(this IRuleBuilder<T, IReadOnlyList<string>?> rule) =>
        rule.Must(types => types is null || (types.All(WebhookEventTypes.All.Contains) && types.Distinct().Count() == types.Count))
            .WithMessage($"eventTypes are distinct event types among {string.Join(", ", WebhookEventTypes.All)} (none: all of them).");

    public static IRuleBuilderOptions<T, string?> MustBeDescription<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxDescriptionLength).Must(ValidationRules.HasNoControlCharacters)
            .WithMessage($"A description is at most {MaxDescriptionLength} characters without control characters.");
}

public static class WebhookRefusals
{
    public static Refusal NotFound(Guid id) => Refusal.NotFound($"There is no webhook endpoint {id}.");
}
