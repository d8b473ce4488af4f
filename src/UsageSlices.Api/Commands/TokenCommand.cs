using JasperFx.CommandLine;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

public sealed class TokenInput : NetCoreInput
{
    [Description("The organisation the token acts for (leave out for an admin token)")]
    [FlagAlias("org", 'o')]
    public string? OrgFlag { get; set; }

    [Description("Space-separated scopes: usage:read usage:write usage:admin")]
    [FlagAlias("scopes", 's')]
    public string ScopesFlag { get; set; } = $"{Scopes.Read} {Scopes.Write}";

    [Description("The token's subject (sub), recorded as the actor of what it does")]
    [FlagAlias("sub")]
    public string SubjectFlag { get; set; } = "cli";

    [Description("Hours until the token expires")]
    [FlagAlias("hours")]
    public int HoursFlag { get; set; } = 24;
}

[Description("Mint a bearer token signed with Auth:SigningKey, for local use; prints only the token", Name = "token")]
public sealed class TokenCommand : JasperFxAsyncCommand<TokenInput>
{
    public override Task<bool> Execute(TokenInput input)
    {
        using var host = input.BuildHost();
        var scopes = input.ScopesFlag.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var unknown = scopes.Except(Scopes.All).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown scope(s): {string.Join(", ", unknown)}. Use {string.Join(", ", Scopes.All)}.");
            return Task.FromResult(false);
        }

        if (input.OrgFlag is null && !scopes.Contains(Scopes.Admin))
        {
            Console.Error.WriteLine("A token without --org needs the usage:admin scope.");
            return Task.FromResult(false);
        }

        var issuer = host.Services.GetRequiredService<TokenIssuer>();
        Console.WriteLine(issuer.Mint(input.SubjectFlag, input.OrgFlag, scopes, TimeSpan.FromHours(input.HoursFlag)));
        return Task.FromResult(true);
    }
}
