namespace UsageSlices.Client;

/// <summary>The service refused a call (after the client's retries, for one it retries): its status and problem.</summary>
public class UsageSlicesException(int status, UsageSlicesProblem? problem)
    : Exception(problem?.Detail ?? problem?.Title ?? $"UsageSlices answered {status}.")
{
    /// <summary>The HTTP status the service answered.</summary>
    public int Status { get; } = status;

    /// <summary>The problem details of the answer, when it had them.</summary>
    public UsageSlicesProblem? Problem { get; } = problem;
}

/// <summary>402: the organisation may not use that much of the feature now (enforce mode or a reservation). Nothing was recorded.</summary>
public sealed class UsageLimitReachedException(UsageSlicesProblem problem) : UsageSlicesException(402, problem)
{
    /// <summary>Why it does not fit: <c>LIMIT_EXCEEDED</c>, <c>REQUESTED_EXCEEDS_REMAINING</c> or <c>NOT_IN_TIER</c>.</summary>
    public string? Reason => Problem?.Reason;

    /// <summary>What the call asked for.</summary>
    public long? Requested => Problem?.Requested;

    /// <summary>What the period has used so far.</summary>
    public long? Used => Problem?.Used;

    /// <summary>What active reservations hold.</summary>
    public long? Reserved => Problem?.Reserved;

    /// <summary>The effective limit (<c>null</c>: unlimited).</summary>
    public long? Limit => Problem?.Limit;

    /// <summary>What is left of the limit.</summary>
    public long? Remaining => Problem?.Remaining;
}
