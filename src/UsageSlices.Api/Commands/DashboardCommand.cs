using JasperFx.CommandLine;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

public sealed class DashboardInput : NetCoreInput
{
    [Description("The service's address as the operator's browser reaches it")]
    [FlagAlias("url")]
    public string UrlFlag { get; set; } = "http://localhost:3000";

    [Description("Minutes until the link's token expires")]
    [FlagAlias("minutes")]
    public int MinutesFlag { get; set; } = 15;

    [Description("The token's subject (sub), recorded as the actor of what is done with it")]
    [FlagAlias("sub")]
    public string SubjectFlag { get; set; } = "dashboard";
}

[Description("Print a sign-in link to the dashboard: a short-lived admin token in the URL fragment, which browsers never send to a server", Name = "dashboard")]
public sealed class DashboardCommand : JasperFxAsyncCommand<DashboardInput>
{
    public const int MaxMinutes = 24 * 60;

    public override Task<bool> Execute(DashboardInput input)
    {
        if (input.MinutesFlag is < 1 or > MaxMinutes || !Uri.TryCreate(input.UrlFlag, UriKind.Absolute, out var address)
            || address.Scheme is not ("http" or "https"))
        {
            Console.Error.WriteLine($"--url must be an absolute http(s) address and --minutes 1 to {MaxMinutes}.");
            return Task.FromResult(false);
        }

        using var host = input.BuildHost();
        var token = host.Services.GetRequiredService<TokenIssuer>().Mint(input.SubjectFlag, null, [Scopes.Admin], TimeSpan.FromMinutes(input.MinutesFlag));
        Console.WriteLine($"{new Uri(address, Dashboard.Path + "/")}#token={token}");
        return Task.FromResult(true);
    }
}
