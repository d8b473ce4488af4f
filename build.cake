// The build: ./build.sh --target=<Task>. Each task is small and named for what it does.
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Debug");
var solution = "./UsageSlices.sln";
var api = "./src/UsageSlices.Api/UsageSlices.Api.csproj";
var results = MakeAbsolute(Directory("./artifacts/test-results"));
var published = MakeAbsolute(Directory("./artifacts/publish"));
var packages = MakeAbsolute(Directory("./artifacts/packages"));
var typescriptClient = "./clients/typescript";

int Run(string command, string arguments, IDictionary<string, string> environment = null, string workingDirectory = null) =>
    StartProcess(command, new ProcessSettings
    {
        Arguments = arguments,
        EnvironmentVariables = environment,
        WorkingDirectory = workingDirectory is null ? null : MakeAbsolute(Directory(workingDirectory)),
    });

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

Task("EnsureNode")
    .Description("Install (if missing) Node.js and npm, which the TypeScript client builds and tests with")
    .Does(() =>
{
    if (Run("bash", "./build/ensure-node.sh") != 0)
        throw new Exception("Node.js could not be set up; see the lines above.");
});

Task("EnsureBrowser")
    .Description("Install (if missing) Debian's Chromium, which the dashboard's browser tests drive")
    .Does(() =>
{
    if (Run("bash", "./build/ensure-browser.sh") != 0)
        throw new Exception("Chromium could not be set up; see the lines above.");
});

Task("BuildTypeScriptClient")
    .Description("clients/typescript: npm ci from the committed lock file, then tsc")
    .IsDependentOn("EnsureNode")
    .Does(() =>
{
    if (Run("npm", "ci --no-audit --no-fund", workingDirectory: typescriptClient) != 0
        || Run("npm", "run build", workingDirectory: typescriptClient) != 0)
        throw new Exception("The TypeScript client did not build; see the lines above.");
});

Task("PackClients")
    .Description("The clients' packages, as they would be published, in artifacts/packages")
    .IsDependentOn("Build")
    .IsDependentOn("BuildTypeScriptClient")
    .Does(() =>
{
    DotNetPack("./clients/dotnet/UsageSlices.Client/UsageSlices.Client.csproj", new DotNetPackSettings
    {
        Configuration = "Release",
        OutputDirectory = packages,
    });
    EnsureDirectoryExists(packages);
    if (Run("npm", $"pack --pack-destination {packages}", workingDirectory: typescriptClient) != 0)
        throw new Exception("npm pack failed.");
});

Task("Test")
    .Description("Every test (.NET, then the TypeScript client's), against a real PostgreSQL; ends with 'N passed, N failed'")
    .IsDependentOn("EnsureDatabase")
    .IsDependentOn("EnsureBrowser")
    .IsDependentOn("Build")
    .IsDependentOn("Format")
    .IsDependentOn("Publish")
    .IsDependentOn("PackClients")
    .Does(() =>
{
    CleanDirectory(results);
    var testEnvironment = new Dictionary<string, string> { ["USAGE_SLICES_PUBLISHED_API"] = $"{published}/UsageSlices.Api.dll" };
    // The crash test runs the published service as a real process; so do the TypeScript client's tests.
    var dotnetExit = Run("dotnet",
        $"test --solution {solution} --no-build -c {configuration} --results-directory \"{results}\" --report-xunit-trx --report-xunit-trx-filename tests.trx",
        testEnvironment);
    // Node's runner prints its own lines and writes JUnit XML; one file at a time, as each starts a service of its own.
    var typescriptExit = Run("bash",
        "-c \"node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout " +
        $"--test-reporter=junit --test-reporter-destination={results}/typescript.junit.xml dist/test/*.test.js\"",
        testEnvironment, typescriptClient);

    var outcomes = TestOutcomes();
    var passed = outcomes.Count(o => o.Outcome == "passed");
    var failed = outcomes.Count(o => o.Outcome == "failed");
    // The failures are named again after Cake's task table, where a log's tail (all CI shows) still has them.
    var failures = outcomes.Where(o => o.Outcome == "failed").Select(o => $"FAILED {o.Name}: {o.Message}\n");
    // build.sh prints this as the run's closing line, after Cake's task table.
    System.IO.File.WriteAllText($"{results}/summary.txt", string.Concat(failures) + $"{passed} passed, {failed} failed\n");

    if (dotnetExit != 0 || typescriptExit != 0 || failed > 0 || passed == 0)
        throw new Exception($"Tests failed (dotnet exit code {dotnetExit}, node exit code {typescriptExit}, {passed} passed, {failed} failed).");
});

/// <summary>Every test's outcome (passed, failed or skipped): xunit's TRX files, then Node's JUnit XML.</summary>
List<(string Name, string Outcome, string Message)> TestOutcomes()
{
    string FirstLine(string text) => (text ?? "").Split('\n').FirstOrDefault()?.Trim() ?? "";
    var dotnet = GetFiles($"{results}/**/*.trx")
        .SelectMany(file => XDocument.Load(file.FullPath).Descendants().Where(e => e.Name.LocalName == "UnitTestResult"))
        .Select(result => (
            Name: (string)result.Attribute("testName"),
            Outcome: (string)result.Attribute("outcome") switch { "Passed" => "passed", "NotExecuted" => "skipped", _ => "failed" },
            Message: FirstLine(result.Descendants().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value)));
    var node = GetFiles($"{results}/*.junit.xml")
        .SelectMany(file => XDocument.Load(file.FullPath).Descendants("testcase"))
        .Select(testcase => (
            Name: "typescript: " + (string)testcase.Attribute("name"),
            Outcome: testcase.Element("failure") is not null ? "failed" : testcase.Element("skipped") is not null ? "skipped" : "passed",
            Message: FirstLine((string)testcase.Element("failure")?.Attribute("message"))));
    return dotnet.Concat(node).ToList();
}

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
