using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;
using Wolverine;
using Wolverine.Marten;

namespace UsageSlices.Features.ExpiringOverrides;

public sealed record OverrideExpiryState(long Version, LimitOverride? Override);

/// <summary>
/// Records on the organisation's stream that an override reached its <c>expiresAt</c>. The limit stopped applying
/// then by the clock alone (every read decides it), so this runs only for the history: once per grant, however
/// many instances run or however late it is delivered.
/// </summary>
public static class OverrideExpiryDueHandler
{
    /// <summary>The durable local queue of scheduled expiries: persisted in PostgreSQL, so they survive a restart.</summary>
    public const string LocalQueue = "override-expiries";

    public static void RouteOverrideExpiries(this WolverineOptions options) =>
        options.PublishMessage<OverrideExpiryDue>().ToLocalQueue(LocalQueue).UseDurableInbox();

    public static async Task<OverrideExpiryState> LoadAsync(OverrideExpiryDue message, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var stream = batch.Events.FetchStreamState(message.OrgId);
        var limitOverride = batch.Load<LimitOverride>(LimitOverride.KeyFor(message.OrgId, message.Feature));
        await batch.Execute(cancellation);
        return new OverrideExpiryState((await stream)?.Version ?? 0, await limitOverride);
    }

    public static (AppendEvents, IMartenOp) Handle(OverrideExpiryDue message, OverrideExpiryState state, TimeProvider time)
    {
        var nothing = new AppendEvents(message.OrgId, state.Version, []);
        // Replaced or revoked since it was scheduled, or recorded already: nothing to record.
        if (state.Override is not { ExpiresAt: { } expiresAt, ExpiryRecordedAt: null } limitOverride || limitOverride.GrantedAt != message.GrantedAt)
            return (nothing, MartenOps.Nothing());

        var now = time.GetUtcNow();
        limitOverride.ExpiryRecordedAt = now;
        var expired = new LimitOverrideExpired(limitOverride.Feature, limitOverride.Limit, expiresAt, limitOverride.GrantedAt, Caller.ServiceSubject);
        return (nothing with { Events = [expired] }, MartenOps.Store(limitOverride));
    }
}
