namespace UsageSlices.Domain.Webhooks;

/// <summary>The <c>Webhooks</c> section.</summary>
public sealed class WebhookSettings
{
    /// <summary>
    /// Whether endpoints may be on loopback, private, link-local or metadata addresses, and use plain http. Off outside
    /// Development unless configured: a webhook URL must not be a way into the service's own network (SSRF).
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The waits before each retry of a failed delivery; past the last, the delivery has failed.</summary>
    public IReadOnlyList<TimeSpan> RetrySchedule { get; set; } = DefaultRetrySchedule;

    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>
    /// The section as configured; <c>RetrySchedule</c> is written as the design does (<c>5s,5m,30m,2h</c>) and
    /// <c>AllowPrivateNetworks</c> defaults to whether this is Development.
    /// </summary>
    public static WebhookSettings From(IConfiguration configuration, bool development)
    {
        var section = configuration.GetSection("Webhooks");
        return new WebhookSettings
        {
            AllowPrivateNetworks = section.GetValue<bool?>(nameof(AllowPrivateNetworks)) ?? development,
            Timeout = section.GetValue<TimeSpan?>(nameof(Timeout)) ?? TimeSpan.FromSeconds(15),
            RetrySchedule = section[nameof(RetrySchedule)] is { Length: > 0 } schedule ? ParseSchedule(schedule) : DefaultRetrySchedule,
        };
    }

    public static IReadOnlyList<TimeSpan> ParseSchedule(string schedule) =>
        [.. schedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseWait)];

    private static TimeSpan ParseWait(string wait)
    {
        if (wait.Length < 2 || !int.TryParse(wait[..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount))
            throw new FormatException($"Webhooks:RetrySchedule: '{wait}' is not a wait such as 5s, 5m, 2h or 1d.");
        return wait[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => throw new FormatException($"Webhooks:RetrySchedule: '{wait}' is not a wait such as 5s, 5m, 2h or 1d."),
        };
    }
}
