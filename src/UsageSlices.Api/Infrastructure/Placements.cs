using System.Collections.Concurrent;
using JasperFx;
using Marten;
using Marten.Exceptions;
using Npgsql;
using UsageSlices.Domain;
using Wolverine;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Which shard holds an organisation, recorded in the main database when it is first registered or placed by an
/// operator (docs/scaling.md). Its primary key and its unique <see cref="Slug"/> make ids and slugs unique across
/// shards, as the <c>Organisation</c> document's own index does inside one database.
/// </summary>
/// <param name="Slug">The organisation's slug once registered; <c>null</c> while it is only placed.</param>
public sealed record OrganisationPlacement(string Id, string Shard, string? Slug, DateTimeOffset PlacedAt)
{
    /// <summary>The place of an organisation registered before shards were configured, which has no row: the main database.</summary>
    public static OrganisationPlacement InMain(Organisation registered) => new(registered.Id, Shards.Main, registered.Slug, registered.CreatedAt);
}

/// <summary>
/// Finds each organisation's shard, and sends the requests about it there: a handler invoked for the shard's
/// Marten tenant gets its session, and its outbox, in that database. With one database there is nothing to find
/// and nothing is read.
/// </summary>
public sealed class Placements(DatabaseSettings database, IDocumentStore store, TimeProvider time)
{
    /// <summary>Placements held at the most (about a hundred bytes each); beyond it, they are read each time.</summary>
    public const int MaxHeld = 200_000;

    /// <summary>A placement never changes while moving organisations is not built, so what was read once stays right.</summary>
    private readonly ConcurrentDictionary<string, string> held = new(StringComparer.Ordinal);

    public bool Sharded => database.Sharded;

    /// <summary>
    /// The shard of <paramref name="orgId"/>. One without a placement was registered before shards were configured,
    /// and is in the main database for good, so that is held like a placement; or it is not registered, and the main
    /// database answers for it, but not for good: it may be registered in another shard a moment later.
    /// </summary>
    public async ValueTask<string> ShardOfAsync(string orgId, CancellationToken cancellation)
    {
        if (!Sharded)
            return Shards.Main;
        if (held.TryGetValue(orgId, out var shard))
            return shard;
        await using var session = store.QuerySession();
        if (await session.LoadAsync<OrganisationPlacement>(orgId, cancellation) is { } placement)
        {
            Hold(placement);
            return placement.Shard;
        }
        if (await session.LoadAsync<Organisation>(orgId, cancellation) is { } registered)
            Hold(OrganisationPlacement.InMain(registered));
        return Shards.Main;
    }

    /// <summary>Whether <paramref name="orgId"/> is registered, in the shard that holds it: for what names an organisation without acting for it (a webhook's filter).</summary>
    public async Task<bool> IsRegisteredAsync(string orgId, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionOf(database, await ShardOfAsync(orgId, cancellation));
        return await session.LoadAsync<Organisation>(orgId, cancellation) is not null;
    }

    /// <summary>The handler of <paramref name="message"/>, run in the shard of the organisation it is about (else in the main database).</summary>
    public async Task<T> InvokeAsync<T>(IMessageBus bus, object message, CancellationToken cancellation) =>
        await InvokeInShardAsync<T>(
            bus, Sharded && message is IForOrganisation about ? await ShardOfAsync(about.OrgId, cancellation) : Shards.Main, message, cancellation);

    /// <summary>
    /// The handler of <paramref name="message"/>, with its session and outbox in <paramref name="shard"/>'s database. The
    /// main database's are opened without a tenant, as with one database: Marten records a stream's tenant with it and
    /// refuses an append under another, so the streams written before shards were configured stay writable.
    /// </summary>
    public Task<T> InvokeInShardAsync<T>(IMessageBus bus, string shard, object message, CancellationToken cancellation) =>
        Sharded && shard != Shards.Main ? bus.InvokeForTenantAsync<T>(shard, message, cancellation) : bus.InvokeAsync<T>(message, cancellation);

    /// <summary>
    /// Where a registration of <paramref name="orgId"/> with <paramref name="slug"/> goes: its placement, made now if
    /// it has none, in the shard with the fewest organisations (or in the main database, if it was registered there
    /// before shards were configured), with the slug claimed for it; or the refusal, when another organisation holds
    /// the slug in any shard.
    /// </summary>
    /// <returns>The placement as it was before, for <see cref="RestoreAsync"/> when the registration is refused.</returns>
    public async Task<Outcome<Placed>> ClaimAsync(string orgId, string slug, CancellationToken cancellation)
    {
        if (!Sharded)
            return new Placed(Shards.Main, null);
        // A racing registration inserts the same placement, or claims the same slug, between the read and the write:
        // the unique keys refuse the loser, whose next round reads what the winner wrote.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var existing = await session.LoadAsync<OrganisationPlacement>(orgId, cancellation);
            var owner = await session.Query<OrganisationPlacement>().Where(p => p.Slug == slug).Select(p => p.Id).FirstOrDefaultAsync(cancellation);
            if (owner is not null && owner != orgId)
                return Refusal.SlugTaken(slug, owner);
            if (existing?.Slug == slug)
            {
                Hold(existing);
                return new Placed(existing.Shard, existing);
            }

            var claimed = existing is null
                ? new OrganisationPlacement(orgId, await ShardForNewAsync(session, orgId, cancellation), slug, time.GetUtcNow())
                : existing with { Slug = slug };
            if (existing is null)
                session.Insert(claimed);
            else
                session.Update(claimed);
            try
            {
                await session.SaveChangesAsync(cancellation);
                Hold(claimed);
                return new Placed(claimed.Shard, existing);
            }
            catch (Exception exception) when (attempt < 3 && IsUniqueViolation(exception))
            {
            }
        }
    }

    /// <summary>A refused registration gives back the slug it claimed: the placement is as it was (without a slug, if it is new).</summary>
    public async Task RestoreAsync(string orgId, Placed placed, CancellationToken cancellation)
    {
        if (!Sharded)
            return;
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<OrganisationPlacement>(orgId, cancellation) is not { } placement)
            return;
        // The shard stays: the row is the organisation's place from now on, registered or not.
        session.Update(placement with { Slug = placed.Before?.Slug });
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>An operator's choice of shard for an organisation that is not registered yet (the <c>place-organisation</c> command).</summary>
    public async Task<Outcome<OrganisationPlacement>> PlaceAsync(string orgId, string shard, CancellationToken cancellation)
    {
        if (database.Shards.All(s => s.Name != shard))
            return Refusal.Invalid("shard", $"'{shard}' is not a configured shard ({string.Join(", ", database.Shards.Select(s => s.Name))}).");
        if (!Sharded)
            return new OrganisationPlacement(orgId, Shards.Main, null, time.GetUtcNow());
        await using var session = store.LightweightSession();
        var existing = await session.LoadAsync<OrganisationPlacement>(orgId, cancellation)
            ?? (await session.LoadAsync<Organisation>(orgId, cancellation) is { } registered ? OrganisationPlacement.InMain(registered) : null);
        if (existing is not null)
            return existing.Shard == shard
                ? existing
                : Refusal.Conflict($"Organisation '{orgId}' is placed in shard '{existing.Shard}' already; moving an organisation is not built.");
        var placement = new OrganisationPlacement(orgId, shard, null, time.GetUtcNow());
        session.Insert(placement);
        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception exception) when (IsUniqueViolation(exception))
        {
            return Refusal.Conflict($"Organisation '{orgId}' was placed by another call meanwhile; run the command again to see where.");
        }
        Hold(placement);
        return placement;
    }

    /// <summary>
    /// A new organisation's shard: the main database if the organisation is there already (registered before shards
    /// were configured), else the shard with the fewest placed organisations, the first by name on a tie.
    /// </summary>
    private async Task<string> ShardForNewAsync(IQuerySession main, string orgId, CancellationToken cancellation)
    {
        if (await main.LoadAsync<Organisation>(orgId, cancellation) is not null)
            return Shards.Main;
        var counts = new Dictionary<string, int>();
        foreach (var shard in database.Shards)
            counts[shard.Name] = await main.Query<OrganisationPlacement>().CountAsync(p => p.Shard == shard.Name, cancellation);
        return counts.MinBy(count => count.Value).Key;
    }

    private void Hold(OrganisationPlacement placement)
    {
        if (held.Count < MaxHeld)
            held[placement.Id] = placement.Shard;
    }

    private static bool IsUniqueViolation(Exception exception) =>
        exception is DocumentAlreadyExistsException
        || exception is MartenCommandException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } }
        || exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}

/// <summary>The shard a registration goes to, and the placement as it was before the registration claimed its slug.</summary>
public sealed record Placed(string Shard, OrganisationPlacement? Before);

public static class ShardSessions
{
    /// <summary>A session on one shard's database; the main database's has no tenant, as with one database (<see cref="Placements.InvokeInShardAsync{T}"/>).</summary>
    public static IQuerySession QuerySessionOf(this IDocumentStore store, DatabaseSettings database, string shard) =>
        database.Sharded && shard != Shards.Main ? store.QuerySession(shard) : store.QuerySession();

    /// <summary>The shard a session's database is: a session opened without a tenant is in the main database.</summary>
    public static string ShardOf(this IQuerySession session) =>
        session.TenantId == StorageConstants.DefaultTenantId ? Shards.Main : session.TenantId;
}
