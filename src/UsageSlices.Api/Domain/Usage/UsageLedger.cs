using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// The one place that decides and records usage, for every entry point: the single calls of a group commit, a
/// batch and a queued call all come through here, so they share every rule. It records into the session it is
/// given; whoever owns the session commits it (Wolverine's transactional middleware), so the ledger's writes and
/// the caller's land in one transaction.
/// Each call is decided in order as if it were alone, on the count its predecessors left. Two round trips before
/// the commit, however many calls: the catalog (its version, when the organisations are held in memory), then every usage stream locked with the
/// idempotency records read after the locks.
/// </summary>
public static class UsageLedger
{
    private sealed record Write(int Index, TrackUsage Call, Organisation Organisation, UsageFeature Feature, Period? Period, string Stream);

    public static async Task<Outcome<TrackUsageReply>[]> RecordAsync(
        IDocumentSession session, IUsageCatalogs catalogs, IReadOnlyList<TrackUsage> calls, DateTimeOffset now, CancellationToken cancellation)
    {
        if (calls.Count == 0)
            return [];

        var catalog = await catalogs.CatalogOfAsync(session, [.. calls.Select(call => call.OrgId).Distinct()], cancellation);

        var outcomes = new Outcome<TrackUsageReply>[calls.Count];
        var writes = new List<Write>();
        for (var index = 0; index < calls.Count; index++)
        {
            var call = calls[index];
            var organisation = catalog.Organisations.GetValueOrDefault(call.OrgId);
            var feature = catalog.Feature(call.Feature);
            if (!UsageRules.CanTrack(call, organisation, feature, out var refusal))
            {
                outcomes[index] = refusal;
                continue;
            }

            var period = Periods.For(feature, call.OccurredAt ?? now, organisation.BillingAnchorDay);
            writes.Add(new Write(index, call, organisation, feature, period, UsageCounter.KeyFor(organisation.Id, feature, period)));
        }

        if (writes.Count == 0)
            return outcomes;

        await session.BeginTransactionAsync(cancellation);
        var locks = session.CreateBatchQuery();
        var streamsRead = LockStreams(locks, writes.Select(write => write.Stream));
        // Read after the locks, so a call that waited sees the keys its predecessor on the stream wrote.
        var firstsRead = locks.LoadMany<IdempotencyRecord>().ById(writes
            .Where(write => write.Call.Key is not null)
            .Select(write => IdempotencyRecord.KeyFor(write.Organisation.Id, write.Call.Key!))
            .Distinct().ToArray());
        await locks.Execute(cancellation);

        var streams = await LockedAsync(streamsRead);
        var used = streams.ToDictionary(stream => stream.Key, stream => stream.Value.Aggregate?.Used ?? 0);
        var announced = streams.ToDictionary(stream => stream.Key, stream => (IReadOnlyCollection<int>)(stream.Value.Aggregate?.Announced ?? []));

        var firsts = (await firstsRead).ToDictionary(record => record.Id);
        foreach (var write in writes)
        {
            var first = write.Call.Key is { } callKey
                ? firsts.GetValueOrDefault(IdempotencyRecord.KeyFor(write.Organisation.Id, callKey))
                : null;
            var decision = UsageRules.Decide(
                write.Call, write.Organisation, write.Feature, catalog.LimitOf(write.Organisation, write.Feature, now),
                write.Period, used[write.Stream], streams[write.Stream].Aggregate?.Reserved ?? 0, first, now);
            if (decision.Refusal is { } refusal)
            {
                outcomes[write.Index] = refusal;
                continue;
            }

            var (reply, recorded, record) = decision.Value!;
            if (recorded is not null)
            {
                var alerts = UsageAlerts.Of(
                    write.Organisation.Id, write.Feature, reply.Limit, catalog.ThresholdsOf(write.Organisation), announced[write.Stream],
                    used[write.Stream], reply.Used, write.Period, now);
                streams[write.Stream].AppendMany([recorded, .. alerts]);
                used[write.Stream] = reply.Used;
                announced[write.Stream] = UsageAlerts.After(announced[write.Stream], alerts);
            }

            if (record is not null)
            {
                session.Insert(record);
                firsts[record.Id] = record;
            }

            outcomes[write.Index] = reply;
        }

        return outcomes;
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the exclusive lock of each usage stream, for whoever writes to them: the lock
    /// serialises every writer of an (organisation, feature, period) — tracks and reservations alike — across
    /// instances, so each decision is taken on the current count. The locks are taken in key order, so that two
    /// transactions that share streams cannot deadlock, and in one round trip: the statements of a batch run in order.
    /// Whatever the caller adds to the batch after them is read after the locks are held.
    /// </summary>
    public static IReadOnlyList<(string Key, Task<IEventStream<UsageCounter>> Stream)> LockStreams(IBatchedQuery batch, IEnumerable<string> keys) =>
        [.. keys.Distinct().Order(StringComparer.Ordinal).Select(key => (key, batch.Events.FetchForExclusiveWriting<UsageCounter>(key)))];

    public static async Task<Dictionary<string, IEventStream<UsageCounter>>> LockedAsync(
        IReadOnlyList<(string Key, Task<IEventStream<UsageCounter>> Stream)> locks)
    {
        var streams = new Dictionary<string, IEventStream<UsageCounter>>();
        foreach (var (key, stream) in locks)
            streams[key] = await stream;
        return streams;
    }
}
