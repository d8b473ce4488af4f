using Microsoft.AspNetCore.Mvc;

namespace UsageSlices.Infrastructure;

/// <summary>
/// What a handler decides: the response, or a refusal as Problem Details. Refusals are values, not exceptions,
/// because they are ordinary answers on the hot path (an enforce-mode 402 is routine).
/// </summary>
public sealed class Outcome<T>
    where T : notnull
{
    private Outcome(T? value, ProblemDetails? problem)
    {
        Value = value;
        Problem = problem;
    }

    public T? Value { get; }

    public ProblemDetails? Problem { get; }

    public static implicit operator Outcome<T>(T value) => new(value, null);

    /// <summary>For interface-typed responses, which C# allows no implicit conversion from.</summary>
    public static Outcome<T> From(T value) => new(value, null);

    public static implicit operator Outcome<T>(ProblemDetails problem) => new(default, problem);
}
