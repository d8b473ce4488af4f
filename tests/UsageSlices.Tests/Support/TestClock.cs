namespace UsageSlices.Tests.Support;

/// <summary>
/// The clock of the service under test: real time (or a fixed instant, for pure functions) moved forward when a test
/// needs a period to roll over. Timers are the system's, so nothing that waits on the clock stalls.
/// </summary>
public sealed class TestClock(DateTimeOffset? frozenAt = null) : TimeProvider
{
    private long offsetTicks;

    public override DateTimeOffset GetUtcNow() => (frozenAt ?? base.GetUtcNow()) + TimeSpan.FromTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);

    public void Reset() => Interlocked.Exchange(ref offsetTicks, 0);
}
