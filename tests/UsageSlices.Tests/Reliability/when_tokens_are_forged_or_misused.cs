using System.Security.Cryptography;
using System.Text;
using Alba;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

public sealed class when_tokens_are_forged_or_misused(AppFixture app) : ApiTest(app)
{
    private static readonly SymmetricSecurityKey DevelopmentKey = new(Encoding.UTF8.GetBytes(AuthSettings.DevelopmentSigningKey));

    public static TheoryData<string, string, string?> RoutesOfAnotherOrganisation => new()
    {
        { "GET", "/api/v1/organisations/acme", null },
        { "POST", "/api/v1/usage/acme/track", """{"feature":"AI_MESSAGES"}""" },
        { "GET", "/api/v1/usage/acme/check/AI_MESSAGES", null },
        { "GET", "/api/v1/usage/acme/limits", null },
    };

    public static TheoryData<string, string, string?> AdminRoutes => new()
    {
        { "PUT", "/api/v1/organisations/acme", """{"slug":"acme","name":"Renamed"}""" },
        { "PUT", "/api/v1/organisations/new-org", """{"slug":"new-org","name":"New"}""" },
        { "PUT", "/api/v1/usage/acme/tier", """{"tier":"business"}""" },
        { "PUT", "/api/v1/tiers/free", """{"name":"Free","priceMonthly":0,"limits":{"AI_MESSAGES":null}}""" },
        { "PUT", "/api/v1/tiers/new-tier", """{"name":"New","priceMonthly":1}""" },
    };

    [Fact]
    public async Task an_unsigned_alg_none_token_is_401()
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = Base64UrlEncoder.Encode($$"""{"sub":"mallory","org_id":"acme","scope":"usage:admin","iss":"usage-slices","aud":"usage-slices-api","exp":{{exp}}}""");

        await ShouldBeRefusedAsync($"{header}.{payload}.", 401);
    }

    [Fact]
    public async Task a_token_with_critical_header_extensions_is_401()
    {
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "usage-slices",
            Audience = "usage-slices-api",
            Claims = new Dictionary<string, object> { ["sub"] = "mallory", ["org_id"] = "acme", ["scope"] = "usage:read usage:write" },
            Expires = DateTime.UtcNow.AddHours(1),
            AdditionalHeaderClaims = new Dictionary<string, object> { ["crit"] = new[] { "x-policy" }, ["x-policy"] = "allow-all" },
            SigningCredentials = new SigningCredentials(DevelopmentKey, SecurityAlgorithms.HmacSha256),
        });

        await ShouldBeRefusedAsync(token, 401);
    }

    [Theory]
    [InlineData("exp")]
    [InlineData("nbf")]
    public async Task a_token_whose_dates_are_strings_is_401(string claim)
    {
        var claims = new Dictionary<string, object> { ["sub"] = "mallory", ["org_id"] = "acme", ["scope"] = "usage:read usage:write" };
        claims[claim] = (claim == "exp" ? DateTimeOffset.UtcNow.AddHours(1) : DateTimeOffset.UtcNow.AddMinutes(-1)).ToUnixTimeSeconds().ToString();
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "usage-slices",
            Audience = "usage-slices-api",
            Claims = claims,
            SigningCredentials = new SigningCredentials(DevelopmentKey, SecurityAlgorithms.HmacSha256),
        };
        if (claim != "exp")
            descriptor.Expires = DateTime.UtcNow.AddHours(1);

        await ShouldBeRefusedAsync(new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor), 401);
    }

    [Fact]
    public async Task a_refused_token_is_not_told_why()
    {
        var result = await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/acme/limits");
            x.WithBearerToken(Forge(expires: DateTime.UtcNow.AddMinutes(-5), notBefore: DateTime.UtcNow.AddMinutes(-10)));
            x.StatusCodeShouldBe(401);
        });

        var challenge = result.Context.Response.Headers.WWWAuthenticate.ToString();
        challenge.ShouldStartWith("Bearer");
        challenge.ShouldNotContain("error_description");
        challenge.ShouldNotContain("expired");
    }

    [Fact]
    public async Task a_token_signed_with_another_key_is_401() =>
        await ShouldBeRefusedAsync(Forge(signing: new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(48)), SecurityAlgorithms.HmacSha256)), 401);

    [Fact]
    public async Task an_RS256_token_is_401_because_only_HS256_is_accepted()
    {
        using var rsa = RSA.Create(2048);

        await ShouldBeRefusedAsync(Forge(signing: new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256)), 401);
    }

    [Fact]
    public async Task an_HS512_token_made_with_the_right_key_is_401_because_the_algorithm_is_pinned()
    {
        var longKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(AuthSettings.DevelopmentSigningKey + AuthSettings.DevelopmentSigningKey));

        await ShouldBeRefusedAsync(Forge(signing: new SigningCredentials(longKey, SecurityAlgorithms.HmacSha512)), 401);
    }

    [Fact]
    public async Task a_token_expired_for_longer_than_the_30_s_skew_is_401() =>
        await ShouldBeRefusedAsync(Forge(notBefore: DateTime.UtcNow.AddMinutes(-10), expires: DateTime.UtcNow.AddSeconds(-45)), 401);

    [Fact]
    public async Task a_token_expired_within_the_skew_is_still_accepted()
    {
        await RegisterAsync("acme");

        await Host.Scenario(x =>
        {
            x.Get.Url("/api/v1/usage/acme/limits");
            x.WithBearerToken(Forge(notBefore: DateTime.UtcNow.AddMinutes(-10), expires: DateTime.UtcNow.AddSeconds(-5)));
        });
    }

    [Fact]
    public async Task a_token_not_yet_valid_is_401() =>
        await ShouldBeRefusedAsync(Forge(notBefore: DateTime.UtcNow.AddMinutes(5), expires: DateTime.UtcNow.AddMinutes(60)), 401);

    [Fact]
    public async Task a_token_without_an_expiry_is_401() => await ShouldBeRefusedAsync(Forge(withoutExpiry: true), 401);

    [Fact]
    public async Task a_token_from_another_issuer_is_401() => await ShouldBeRefusedAsync(Forge(issuer: "someone-else"), 401);

    [Fact]
    public async Task a_token_for_another_audience_is_401() => await ShouldBeRefusedAsync(Forge(audience: "another-api"), 401);

    [Fact]
    public async Task a_write_token_without_org_id_is_403_on_an_organisations_routes() =>
        await ShouldBeRefusedAsync(Forge(orgId: null, scope: "usage:read usage:write"), 403);

    [Theory]
    [MemberData(nameof(RoutesOfAnotherOrganisation))]
    public async Task a_token_for_organisation_b_is_403_on_every_route_of_organisation_a(string method, string url, string? body)
    {
        await RegisterAsync("acme");
        await RegisterAsync("rival");
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var result = await SendAsync(method, url, body, TokenFor("rival", Scopes.Read, Scopes.Write), 403);

        (await ProblemOf(result, 403))["detail"]!.ToString().ShouldContain("organisation");
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(AdminRoutes))]
    public async Task a_non_admin_token_is_403_on_every_admin_route(string method, string url, string? body)
    {
        await RegisterAsync("acme");
        var before = await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel);

        var result = await SendAsync(method, url, body, TokenFor("acme", Scopes.Read, Scopes.Write), 403);

        (await ProblemOf(result, 403))["detail"]!.ToString().ShouldContain(Scopes.Admin);
        (await DatabaseSnapshot.TakeAsync(AppFixture.Schema, Cancel)).ShouldBe(before);
    }

    private async Task ShouldBeRefusedAsync(string token, int status)
    {
        await RegisterAsync("acme");

        var read = await SendAsync("GET", "/api/v1/usage/acme/limits", null, token, status);
        await ProblemOf(read, status);
        var write = await SendAsync("POST", "/api/v1/usage/acme/track", """{"feature":"AI_MESSAGES"}""", token, status);
        await ProblemOf(write, status);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(0);
    }

    private Task<IScenarioResult> SendAsync(string method, string url, string? body, string token, int status) =>
        Host.Scenario(x =>
        {
            var request = method switch
            {
                "GET" => x.Get.Url(url),
                "PUT" => x.Put.Text(body!).ToUrl(url),
                _ => x.Post.Text(body!).ToUrl(url),
            };
            if (body is not null)
                x.WithRequestHeader("Content-Type", "application/json");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });

    /// <summary>A token as the service would mint it for acme (read, write), with one thing changed.</summary>
    private static string Forge(
        SigningCredentials? signing = null,
        string issuer = "usage-slices",
        string audience = "usage-slices-api",
        string? orgId = "acme",
        string scope = "usage:read usage:write",
        DateTime? notBefore = null,
        DateTime? expires = null,
        bool withoutExpiry = false)
    {
        var claims = new Dictionary<string, object> { ["sub"] = "mallory", ["scope"] = scope };
        if (orgId is not null)
            claims["org_id"] = orgId;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = notBefore ?? DateTime.UtcNow.AddMinutes(-1),
            Expires = withoutExpiry ? null : expires ?? DateTime.UtcNow.AddHours(1),
            SigningCredentials = signing ?? new SigningCredentials(DevelopmentKey, SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
