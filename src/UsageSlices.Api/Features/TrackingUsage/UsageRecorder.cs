using JasperFx.Events;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.TrackingUsage;

/// <summary>
/// Records track calls in the session's one transaction, each decided in order as if it were alone: the single
/// calls of a group commit, a batch and a queued call all come through here, so they share every rule.
/// Two round trips before the commit, however many calls: the organisations and the catalog, then every usage
/// stream locked with the idempotency records read after the locks.
/// </summary>
public static class UsageRecorder
{
    private sealed record Write(int Index, TrackUsage Call, Organisation Organisation, UsageFeature Feature, Period? Period, string Stream);

    public static async Task<Outcome<TrackUsageResponse>[]> RecordAsync(
        IDocumentSession session, IReadOnlyList<TrackUsage> calls, DateTimeOffset now, CancellationToken cancellation)
    {
        if (calls.Count == 0)
            return [];

        var catalog = await session.LoadCatalogAsync(calls.Select(call => call.OrgId), cancellation);

        var outcomes = new Outcome<TrackUsageResponse>[calls.Count];
        var writes = new List<Write>();
        for (var index = 0; index < calls.Count; index++)
        {
            var call = calls[index];
            var organisation = catalog.Organisations.GetValueOrDefault(call.OrgId);
            var feature = catalog.Feature(call.Feature);
            if (!TrackUsageRules.CanTrack(call, organisation, feature, out var refusal))
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
        // groups that share streams cannot deadlock, and in one round trip: the statements of a batch run in order.
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
            var decision = TrackUsageRules.Decide(
                write.Call, write.Organisation, write.Feature, TierLimit.In(catalog.TierOf(write.Organisation), write.Feature),
                write.Period, used[write.Stream], first, now);
            if (decision.Problem is { } problem)
            {
                outcomes[write.Index] = problem;
                continue;
            }

            var (response, recorded, record) = decision.Value!;
            if (recorded is not null)
            {
                streams[write.Stream].AppendOne(recorded);
                used[write.Stream] = response.Used;
            }

            if (record is not null)
            {
                session.Insert(record);
                firsts[record.Id] = record;
            }

            outcomes[write.Index] = response;
        }

        return outcomes;
    }
}
