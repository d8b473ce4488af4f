// The build: ./build.sh --target=<Task>. Each task is small and named for what it does.
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Debug");
var solution = "./UsageSlices.sln";
var api = "./src/UsageSlices.Api/UsageSlices.Api.csproj";
var results = MakeAbsolute(Directory("./artifacts/test-results"));
var published = MakeAbsolute(Directory("./artifacts/publish"));

int Run(string command, string arguments, IDictionary<string, string> environment = null) =>
    StartProcess(command, new ProcessSettings { Arguments = arguments, EnvironmentVariables = environment });

Task("EnsureDatabase")
    .Description("Install (if missing) and start PostgreSQL, create the role and databases; skipped for ConnectionStrings__Postgres")
    .Does(() =>
{
    if (Run("bash", "./build/ensure-database.sh") != 0)
        throw new Exception("PostgreSQL could not be set up; see the lines above.");
});

Task("Build")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

Task("Format")
    .Description("Fail when the code does not follow .editorconfig (dotnet format --verify-no-changes)")
    .Does(() =>
{
    if (Run("dotnet", $"format {solution} --verify-no-changes --no-restore") != 0)
        throw new Exception("dotnet format found changes to make: run `dotnet format UsageSlices.sln`.");
});

Task("Publish")
    .Description("The service as it is deployed: Release, with Wolverine's handler code generated now and loaded statically, in artifacts/publish")
    .IsDependentOn("Build")
    .Does(() =>
{
    var generated = Directory("./src/UsageSlices.Api/Internal");
    try
    {
        // Generated from this commit's code every time, so it can never be stale; it is not kept in git.
        var codegen = Run("dotnet", $"run --project {api} -c {configuration} --no-build -- codegen write",
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development" });
        if (codegen != 0)
            throw new Exception("codegen write failed.");
        DotNetPublish(api, new DotNetPublishSettings { Configuration = "Release", OutputDirectory = published });
    }
    finally
    {
        if (DirectoryExists(generated))
            DeleteDirectory(generated, new DeleteDirectorySettings { Recursive = true });
    }
});

Task("Test")
    .Description("Every test, against a real PostgreSQL; ends with 'N passed, N failed'")
    .IsDependentOn("EnsureDatabase")
    .IsDependentOn("Build")
    .IsDependentOn("Format")
    .IsDependentOn("Publish")
    .Does(() =>
{
    CleanDirectory(results);
    // The crash test runs the published service as a real process.
    var exitCode = Run("dotnet",
        $"test --solution {solution} --no-build -c {configuration} --results-directory \"{results}\" --report-xunit-trx --report-xunit-trx-filename tests.trx",
        new Dictionary<string, string> { ["USAGE_SLICES_PUBLISHED_API"] = $"{published}/UsageSlices.Api.dll" });

    var counters = GetFiles($"{results}/**/*.trx")
        .Select(file => XDocument.Load(file.FullPath).Descendants().First(e => e.Name.LocalName == "Counters"))
        .ToList();
    int Sum(string name) => counters.Sum(c => (int?)c.Attribute(name) ?? 0);
    var passed = Sum("passed");
    var failed = Sum("failed") + Sum("error") + Sum("timeout") + Sum("aborted");
    // The failures are named again after Cake's task table, where a log's tail (all CI shows) still has them.
    var failures = GetFiles($"{results}/**/*.trx")
        .SelectMany(file => XDocument.Load(file.FullPath).Descendants().Where(e => e.Name.LocalName == "UnitTestResult"))
        .Where(result => (string)result.Attribute("outcome") != "Passed")
        .Select(result =>
        {
            var message = result.Descendants().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? "";
            var firstLine = message.Split('\n').FirstOrDefault()?.Trim() ?? "";
            return $"FAILED {(string)result.Attribute("testName")}: {firstLine}\n";
        });
    // build.sh prints this as the run's closing line, after Cake's task table.
    System.IO.File.WriteAllText($"{results}/summary.txt", string.Concat(failures) + $"{passed} passed, {failed} failed\n");

    if (exitCode != 0 || failed > 0 || passed == 0)
        throw new Exception($"Tests failed (exit code {exitCode}, {passed} passed, {failed} failed).");
});

Task("Bench")
    .Description("Baselines (bare Kestrel, pgbench) and the service side by side in one run; writes docs/benchmarks.md")
    .IsDependentOn("EnsureDatabase")
    .IsDependentOn("Publish")
    .Does(() =>
{
    DotNetPublish("./bench/KestrelBaseline/KestrelBaseline.csproj", new DotNetPublishSettings
    {
        Configuration = "Release",
        OutputDirectory = MakeAbsolute(Directory("./artifacts/bench-baseline")),
    });
    if (Run("bash", "./bench/run.sh") != 0)
        throw new Exception("The benchmark failed; see artifacts/bench/.");
});

Task("Run")
    .Description("Set up PostgreSQL and run the service on http://localhost:3000 (Development settings unless ASPNETCORE_ENVIRONMENT says otherwise)")
    .IsDependentOn("EnsureDatabase")
    .Does(() =>
{
    var environment = new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = EnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Development",
    };
    Run("dotnet", $"run --project {api} -c {configuration}", environment);
});

RunTarget(target);
