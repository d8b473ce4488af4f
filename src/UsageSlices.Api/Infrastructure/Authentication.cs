using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using UsageSlices.Domain;

namespace UsageSlices.Infrastructure;

public static class Claims
{
    public const string OrgId = "org_id";
    public const string Scope = "scope";
    public const string Subject = "sub";
}

/// <summary>The <c>Auth</c> section: DESIGN.md's key names and defaults.</summary>
public sealed class AuthSettings
{
    /// <summary>
    /// Ships for local use only: Development falls back to it when no key is configured, and every other environment
    /// refuses to start with it, since anyone can read it here.
    /// </summary>
    public const string DevelopmentSigningKey = "usage-slices-development-signing-key-do-not-use-in-production";

    public const int MinimumKeyBytes = 32;

    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "usage-slices";
    public string Audience { get; set; } = "usage-slices-api";
    public string? Authority { get; set; }

    public static AuthSettings From(IConfiguration configuration, IHostEnvironment environment)
    {
        var settings = configuration.GetSection("Auth").Get<AuthSettings>() ?? new AuthSettings();
        // An empty value (Auth__SigningKey= in an environment file) means "not configured", not "an empty key".
        settings.SigningKey = string.IsNullOrWhiteSpace(settings.SigningKey) ? null : settings.SigningKey;
        settings.Authority = string.IsNullOrWhiteSpace(settings.Authority) ? null : settings.Authority;
        if (environment.IsDevelopment())
        {
            settings.SigningKey ??= settings.Authority is null ? DevelopmentSigningKey : null;
            return settings;
        }

        if (settings.SigningKey is null && settings.Authority is null)
            throw new InvalidOperationException("Auth:SigningKey or Auth:Authority must be configured outside Development.");
        if (settings.SigningKey == DevelopmentSigningKey)
            throw new InvalidOperationException("Auth:SigningKey is the development key, which is public; configure a secret key outside Development.");
        if (settings.SigningKey is { } key && Encoding.UTF8.GetByteCount(key) < MinimumKeyBytes)
            throw new InvalidOperationException($"Auth:SigningKey must be at least {MinimumKeyBytes} bytes.");
        return settings;
    }

    public SymmetricSecurityKey? SecurityKey() =>
        SigningKey is null ? null : new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey));
}

/// <summary>Mints HS256 tokens with the configured key: for the <c>token</c> command and for tests.</summary>
public sealed class TokenIssuer(AuthSettings settings, TimeProvider time)
{
    public string Mint(string subject, string? orgId, IEnumerable<string> scopes, TimeSpan lifetime)
    {
        var key = settings.SecurityKey()
            ?? throw new InvalidOperationException("Tokens can be minted only with Auth:SigningKey; with Auth:Authority, ask the identity provider.");
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [Claims.Subject] = subject,
            [Claims.Scope] = string.Join(' ', scopes),
        };
        if (orgId is not null)
            claims[Claims.OrgId] = orgId;

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(lifetime),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>What the token handler lets pass and RFC 7515/7519 do not.</summary>
public static class TokenRules
{
    private static readonly string[] NumericDates = [JwtRegisteredClaimNames.Exp, JwtRegisteredClaimNames.Nbf, JwtRegisteredClaimNames.Iat];

    /// <summary>
    /// RFC 7515 §4.1.11: a token whose <c>crit</c> header names extensions must be refused by a recipient that does not
    /// understand them, and this service understands none. RFC 7519 §2: <c>exp</c>, <c>nbf</c> and <c>iat</c> are
    /// numbers; the handler also reads <c>"exp": "1900000000"</c>, which another validator would read otherwise.
    /// </summary>
    public static string? Refuse(SecurityToken token)
    {
        if (token is not JsonWebToken jwt)
            return "Only compact JSON web tokens are accepted.";
        if (jwt.TryGetHeaderValue<object>("crit", out _))
            return "The token names critical header extensions (crit), which this service does not understand.";
        // The handler has already turned a string date into a number, so the payload as sent is read again.
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        foreach (var name in NumericDates)
        {
            if (payload.RootElement.TryGetProperty(name, out var date) && date.ValueKind != JsonValueKind.Number)
                return $"The token's {name} is not a number.";
        }

        return null;
    }
}

public static class AuthenticationSetup
{
    public static IServiceCollection AddUsageAuthentication(this IServiceCollection services, AuthSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorizer>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            options.Authority = settings.Authority;
            // WWW-Authenticate says only that the token was refused; why (with timestamps) is logged, not told to the caller.
            options.IncludeErrorDetails = false;
            options.Events = new JwtBearerEvents
            {
                OnAuthenticationFailed = context =>
                {
                    context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthenticationSetup))
                        .LogInformation("Bearer token refused: {Reason}", context.Exception.Message);
                    return Task.CompletedTask;
                },
                OnTokenValidated = context =>
                {
                    if (TokenRules.Refuse(context.SecurityToken) is { } reason)
                    {
                        context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthenticationSetup))
                            .LogInformation("Bearer token refused: {Reason}", reason);
                        context.Fail(reason);
                    }

                    return Task.CompletedTask;
                },
            };
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = settings.Issuer,
                ValidAudience = settings.Audience,
                ClockSkew = TimeSpan.FromSeconds(30),
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                NameClaimType = Claims.Subject,
            };
            if (settings.SecurityKey() is { } key)
            {
                options.TokenValidationParameters.IssuerSigningKey = key;
                // Pinning the algorithm stops a token signed with another algorithm (or none) being tried against the key.
                options.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            }
        });

        var authorization = services.AddAuthorizationBuilder();
        foreach (var scope in Scopes.All)
            authorization.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        return services;
    }
}
