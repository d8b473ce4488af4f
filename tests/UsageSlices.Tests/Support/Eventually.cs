using Npgsql;

namespace UsageSlices.Tests.Support;

/// <summary>Waiting for something to become true by asking, with a deadline: never by sleeping a guessed time.</summary>
public static class Eventually
{
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(failure);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string failure, TimeSpan? within = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), failure, within);

    /// <summary>
    /// Asks PostgreSQL (not the clock) until <paramref name="waiters"/> backends wait on a lock the backend
    /// <paramref name="blockerPid"/> holds, directly or behind another waiter (the second waiter for a row waits on the first).
    /// </summary>
    public static async Task WaitUntilBlockedByAsync(int blockerPid, int waiters = 1)
    {
        await using var probe = new NpgsqlConnection(AppFixture.ConnectionString);
        await probe.OpenAsync(TestContext.Current.CancellationToken);
        await using var waiting = new NpgsqlCommand(
            """
            with recursive blocked(pid) as (
                select pid from pg_stat_activity where @blocker = any(pg_blocking_pids(pid))
                union
                select waiter.pid from pg_stat_activity waiter join blocked on blocked.pid = any(pg_blocking_pids(waiter.pid)))
            select count(*) from blocked
            """, probe);
        waiting.Parameters.AddWithValue("blocker", blockerPid);
        await WaitUntilAsync(
            async () => (long)(await waiting.ExecuteScalarAsync(TestContext.Current.CancellationToken))! >= waiters,
            $"{waiters} backend(s) never waited on the lock held by backend {blockerPid}.");
    }
}
