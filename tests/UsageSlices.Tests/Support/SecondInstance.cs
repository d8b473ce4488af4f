using Alba;

namespace UsageSlices.Tests.Support;

/// <summary>A second host of the service on the same database, so every call below is spread over two instances.</summary>
public sealed class SecondInstance : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Host = await AppFixture.StartHostAsync();

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
