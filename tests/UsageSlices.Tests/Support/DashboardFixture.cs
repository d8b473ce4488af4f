using Microsoft.Playwright;

namespace UsageSlices.Tests.Support;

/// <summary>
/// The service as its own process, and Debian's Chromium driven by Playwright (nothing can download a browser here):
/// the dashboard as an operator's browser sees it. Each test takes a context of its own, so sign-ins do not leak.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string Schema = "usage_slices_dashboard";

    /// <summary>Where the tests keep their screenshots (artifacts/ is not committed; docs/ has one of each width).</summary>
    public static readonly string Screenshots = Path.Combine(Repository.Root, "artifacts", "screenshots");

    private IPlaywright playwright = null!;

    /// <summary>A small pool: one browser's calls need few connections, and the tests' hosts share PostgreSQL's 100.</summary>
    public ServiceProcess Service { get; } = new(Schema, AppFixture.ConnectionString + ";Maximum Pool Size=8", settings: new Dictionary<string, string>
    {
        // The webhook page's test sends to a receiver on loopback.
        ["Webhooks__AllowPrivateNetworks"] = "true",
        ["Webhooks__RetrySchedule"] = "1h",
    });

    public IBrowser Browser { get; private set; } = null!;

    public string AdminToken => Service.Tokens.Mint("operator", null, [Scopes.Admin], TimeSpan.FromHours(1));

    public async ValueTask InitializeAsync()
    {
        await Service.StartAsync(TestContext.Current.CancellationToken);
        // The machine is shared and noisy: a page is given 15 s to show what is expected, as a poll with a deadline.
        Assertions.SetDefaultExpectTimeout(15_000);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
        await Service.DisposeAsync();
    }
}

/// <summary>The repository's root, found from the test binaries.</summary>
public static class Repository
{
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(directory.FullName, "UsageSlices.sln")))
                directory = directory.Parent ?? throw new InvalidOperationException("The tests do not run inside the repository.");
            return directory.FullName;
        }
    }
}
