using JasperFx.Events;
using Marten;

namespace UsageSlices.Domain.Usage;

/// <summary>
/// The one place that decides and records usage, for every entry point: the single calls of a group commit, a
/// batch and a queued call all come through here, so they share every rule. It records into the session it is
/// given; whoever owns the session commits it (Wolverine's transactional middleware), so the ledger's writes and
/// the caller's land in one transaction.
/// Each call is decided in order as if it were alone, on the count its predecessors left. Two round trips before
/// the commit, however many calls: the organisations and the catalog, then every usage stream locked with the
/// idempotency records read after the locks.
/// </summary>
public static class UsageLedger
{
    private sealed record Write(int Index, TrackUsage Call, Organisation Organisation, UsageFeature Feature, Period? Period, string Stream);

    public static async Task<Outcome<TrackUsageReply>[]> RecordAsync(
        IDocumentSession session, IReadOnlyList<TrackUsage> calls, DateTimeOffset now, CancellationToken cancellation)
    {
        if (calls.Count == 0)
            return [];

        var catalog = await session.LoadCatalogAsync(calls.Select(call => call.OrgId), cancellation);

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

        // The lock on each usage stream serialises every writer of its (organisation, feature, period) across
        // instances, so each decision below is taken on the current count. The locks are taken in key order, so two
        // transactions that share streams cannot deadlock, and in one round trip: the statements of a batch run in order.
        await session.BeginTransactionAsync(cancellation);
        var locks = session.CreateBatchQuery();
        var streamsRead = new List<(string Key, Task<IEventStream<UsageCounter>> Stream)>();
        foreach (var key in writes.Select(write => write.Stream).Distinct().Order(StringComparer.Ordinal))
            streamsRead.Add((key, locks.Events.FetchForExclusiveWriting<UsageCounter>(key)));
        // Read after the locks, so a call that waited sees the keys its predecessor on the stream wrote.
        var firstsRead = locks.LoadMany<IdempotencyRecord>().ById(writes
            .Where(write => write.Call.Key is not null)
            .Select(write => IdempotencyRecord.KeyFor(write.Organisation.Id, write.Call.Key!))
            .Distinct().ToArray());
        await locks.Execute(cancellation);

        var streams = new Dictionary<string, IEventStream<UsageCounter>>();
        var used = new Dictionary<string, long>();
        foreach (var (key, read) in streamsRead)
        {
            streams[key] = await read;
            used[key] = streams[key].Aggregate?.Used ?? 0;
        }

        var firsts = (await firstsRead).ToDictionary(record => record.Id);
        foreach (var write in writes)
        {
            var first = write.Call.Key is { } callKey
                ? firsts.GetValueOrDefault(IdempotencyRecord.KeyFor(write.Organisation.Id, callKey))
                : null;
            var decision = UsageRules.Decide(
                write.Call, write.Organisation, write.Feature, TierLimit.In(catalog.TierOf(write.Organisation), write.Feature),
                write.Period, used[write.Stream], first, now);
            if (decision.Refusal is { } refusal)
            {
                outcomes[write.Index] = refusal;
                continue;
            }

            var (reply, recorded, record) = decision.Value!;
            if (recorded is not null)
            {
                streams[write.Stream].AppendOne(recorded);
                used[write.Stream] = reply.Used;
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
}
