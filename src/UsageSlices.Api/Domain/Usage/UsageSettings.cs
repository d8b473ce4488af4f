namespace UsageSlices.Domain.Usage;

/// <summary>The <c>Usage</c> section.</summary>
public sealed class UsageSettings
{
    /// <summary>How far back an event's <c>occurredAt</c> may lie: long enough for a monthly period plus a few days of retries.</summary>
    public TimeSpan LateEventWindow { get; set; } = TimeSpan.FromDays(35);

    /// <summary>How far ahead of the server's clock an event may be stamped, to allow for clients' clock drift.</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);
}
