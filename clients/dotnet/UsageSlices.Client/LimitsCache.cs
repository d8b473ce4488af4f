using System.Collections.Concurrent;

namespace UsageSlices.Client;

/// <summary>
/// The opt-in per-instance cache of limits pages (<see cref="UsageSlicesClientOptions.LimitsCacheMaxStaleness"/>).
/// A page is served only while it is younger than the maximum staleness, counted from when its request was sent,
/// and only for a feature whose period and override have not ended since. The client's own tracks and holds write
/// their answers' numbers into the page, so what this instance used is seen at once; they never make a page
/// younger, so nothing another instance did is hidden for longer than the bound.
/// </summary>
internal sealed class LimitsCache(Microsoft.Extensions.Options.IOptions<UsageSlicesClientOptions> options)
{
    /// <summary>Past this many organisations, a new page first evicts the stale ones, so the cache cannot grow without bound.</summary>
    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<string, Entry> pages = new(StringComparer.Ordinal);

    private sealed record Entry(LimitsResult Page, DateTimeOffset ReadAt);

    private TimeSpan? MaxStaleness => options.Value.LimitsCacheMaxStaleness;

    public bool Enabled => MaxStaleness is not null;

    public DateTimeOffset Now => options.Value.TimeProvider.GetUtcNow();

    /// <summary>The cached page of <paramref name="orgId"/>, if it is within the bound.</summary>
    public LimitsResult? Page(string orgId) =>
        Enabled && pages.TryGetValue(orgId, out var entry) && Now - entry.ReadAt <= MaxStaleness ? entry.Page : null;

    /// <summary>The cached limit of one feature, if its page is within the bound and nothing about it has ended since.</summary>
    public (LimitsResult Page, FeatureLimitResult Feature)? Feature(string orgId, string feature)
    {
        if (Page(orgId) is not { } page || page.Features.FirstOrDefault(f => f.Feature == feature) is not { } limit)
            return null;
        var now = Now;
        return limit.PeriodEnd <= now || limit.OverrideExpiresAt <= now ? null : (page, limit);
    }

    /// <summary>Keeps a page read by a request sent at <paramref name="readAt"/>, unless a younger one is there already.</summary>
    public void Store(LimitsResult page, DateTimeOffset readAt)
    {
        if (!Enabled)
            return;
        if (pages.Count > PruneAbove)
        {
            foreach (var (orgId, stale) in pages)
                if (Now - stale.ReadAt > MaxStaleness)
                    pages.TryRemove(new KeyValuePair<string, Entry>(orgId, stale));
        }

        pages.AddOrUpdate(page.OrgId, new Entry(page, readAt), (_, held) => held.ReadAt > readAt ? held : new Entry(page, readAt));
    }

    /// <summary>Writes what a track of this instance answered into the feature's cached numbers.</summary>
    public void Tracked(TrackResult tracked) =>
        Update(tracked.OrgId, tracked.Feature, tracked.PeriodStart, limit => limit with
        {
            Used = tracked.Used,
            Limit = tracked.Limit,
            Remaining = tracked.Remaining,
            Unlimited = tracked.Unlimited,
        });

    /// <summary>Writes what a hold of this instance answered into the feature's cached numbers.</summary>
    public void Reserved(ReservationResult held) =>
        Update(held.OrgId, held.Feature, held.PeriodStart, limit => limit with
        {
            Used = held.Used,
            Reserved = held.Reserved,
            Limit = held.Limit,
            Remaining = held.Remaining,
        });

    /// <summary>A hold ended: its answer does not say what the others hold, so the page is read again next time.</summary>
    public void Forget(string orgId) => pages.TryRemove(orgId, out _);

    private void Update(string orgId, string feature, DateTimeOffset? periodStart, Func<FeatureLimitResult, FeatureLimitResult> change)
    {
        if (!Enabled)
            return;
        while (pages.TryGetValue(orgId, out var entry))
        {
            var features = entry.Page.Features.ToList();
            var index = features.FindIndex(f => f.Feature == feature);
            // A late event of another period says nothing of this one's numbers.
            if (index < 0 || features[index].PeriodStart != periodStart)
                return;
            features[index] = change(features[index]);
            if (pages.TryUpdate(orgId, entry with { Page = entry.Page with { Features = features } }, entry))
                return;
        }
    }
}
