using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

[Collection(nameof(AppCollection))]
public sealed class when_production_is_misconfigured
{
    [Theory]
    [InlineData(AuthSettings.DevelopmentSigningKey, "development key")]
    [InlineData("only-31-bytes-long-signing-key!", "at least 32 bytes")]
    public async Task the_published_service_refuses_to_start(string signingKey, string reason)
    {
        await using var service = new ServiceProcess("usage_slices_process", signingKey: signingKey);

        var refusal = await Should.ThrowAsync<InvalidOperationException>(() => service.StartAsync(TestContext.Current.CancellationToken));

        refusal.Message.ShouldContain("exited at start");
        refusal.Message.ShouldContain(reason);
    }
}
