using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Shouldly;
using UsageSlices.Infrastructure;

namespace UsageSlices.Tests.Operations;

public sealed class AuthSettingsTests
{
    private static AuthSettings Load(string environment, Dictionary<string, string?> settings) =>
        AuthSettings.From(
            new ConfigurationBuilder().AddInMemoryCollection(settings).Build(),
            new HostingEnvironment { EnvironmentName = environment });

    [Fact]
    public void development_falls_back_to_the_development_key_with_the_designed_issuer_and_audience()
    {
        var settings = Load(Environments.Development, []);

        settings.SigningKey.ShouldBe(AuthSettings.DevelopmentSigningKey);
        settings.Issuer.ShouldBe("usage-slices");
        settings.Audience.ShouldBe("usage-slices-api");
    }

    [Fact]
    public void outside_development_the_service_refuses_to_start_without_a_key_or_authority()
    {
        Should.Throw<InvalidOperationException>(() => Load(Environments.Production, []))
            .Message.ShouldContain("Auth:SigningKey");
    }

    [Fact]
    public void outside_development_the_service_refuses_the_development_key()
    {
        Should.Throw<InvalidOperationException>(() => Load(Environments.Production, new() { ["Auth:SigningKey"] = AuthSettings.DevelopmentSigningKey }))
            .Message.ShouldContain("development key");
    }

    [Fact]
    public void outside_development_the_service_refuses_a_key_under_32_bytes()
    {
        Should.Throw<InvalidOperationException>(() => Load(Environments.Staging, new() { ["Auth:SigningKey"] = new string('k', 31) }))
            .Message.ShouldContain("32 bytes");
    }

    [Fact]
    public void outside_development_a_long_key_or_an_authority_is_accepted()
    {
        Load(Environments.Production, new() { ["Auth:SigningKey"] = new string('k', 32), ["Auth:Issuer"] = "acme" }).Issuer.ShouldBe("acme");
        Load(Environments.Production, new() { ["Auth:Authority"] = "https://login.example.com" }).SigningKey.ShouldBeNull();
    }
}
