using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Clients;

/// <summary>docs/clients.md shows the samples the client tests run, as they are, not a copy that drifts from them.</summary>
public sealed class when_reading_the_clients_samples
{
    [Theory]
    [InlineData("tests/UsageSlices.Tests/Clients/Samples/ChatTurn.cs", "csharp")]
    [InlineData("clients/typescript/samples/chat-turn.ts", "ts")]
    public void each_sample_is_in_the_docs_whole_in_a_code_block_of_its_language(string sample, string language)
    {
        var root = Repository.Root;
        var docs = File.ReadAllText(Path.Combine(root, "docs", "clients.md")).ReplaceLineEndings("\n");
        var code = File.ReadAllText(Path.Combine(root, sample)).ReplaceLineEndings("\n");

        docs.ShouldContain($"```{language}\n{code}```\n", customMessage: $"docs/clients.md must show {sample} as it is.");
    }
}
