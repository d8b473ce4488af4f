namespace UsageSlices.Domain;

/// <summary>What a handler decides: the reply, or a <see cref="Domain.Refusal"/>.</summary>
public sealed class Outcome<T>
    where T : notnull
{
    private Outcome(T? value, Refusal? refusal)
    {
        Value = value;
        Refusal = refusal;
    }

    public T? Value { get; }

    public Refusal? Refusal { get; }

    public static implicit operator Outcome<T>(T value) => new(value, null);

    /// <summary>For interface-typed replies, which C# allows no implicit conversion from.</summary>
    public static Outcome<T> From(T value) => new(value, null);

    public static implicit operator Outcome<T>(Refusal refusal) => new(default, refusal);
}
