using Marten;
using Wolverine.Marten;

namespace UsageSlices.Infrastructure;

/// <summary>
/// A handler's effect on one event stream, which Wolverine applies to its session before the commit: start the
/// stream when <paramref name="Version"/> is 0, else append to it on the condition that nobody else has since it was
/// read at that version (Marten's optimistic check; the loser's whole handler is retried on fresh state).
/// </summary>
public sealed record AppendEvents(string StreamKey, long Version, IReadOnlyList<object> Events) : IMartenOp
{
    public void Execute(IDocumentSession session)
    {
        if (Events.Count == 0)
            return;
        if (Version == 0)
            session.Events.StartStream(StreamKey, [.. Events]);
        else
            session.Events.Append(StreamKey, Version + Events.Count, [.. Events]);
    }
}
