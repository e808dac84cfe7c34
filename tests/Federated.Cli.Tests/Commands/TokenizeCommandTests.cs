using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Commands;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated tokenize` end to end through CliRunner (console captured; the collection keeps it serial).</summary>
[Collection("Console")]
public sealed class TokenizeCommandTests
{
    private static (int ExitCode, string Out, string Error) Run(params string[] args) => CliHarness.Run(TokenizeCommand.Create(), args);

    [Fact]
    public void Tokenize_ModelAndJson_PrintsIdsOfHuggingFaceProbe()
    {
        // Arrange: probe 0 of tiny-llama/tokenizer-probes.json ("hello world"), made by Hugging Face's tokenizers.
        using var probes = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path("tiny-llama", "tokenizer-probes.json")));
        var probe = probes.RootElement[0];

        // Act
        var (exitCode, output, _) = Run("tokenize", "--model", Fixtures.Path("tiny-llama"), "--text", probe.GetProperty("text").GetString()!, "--json");

        // Assert
        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(probe.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()), json.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(probe.GetProperty("decoded").GetString(), json.RootElement.GetProperty("decoded").GetString());
    }

    [Fact]
    public void Tokenize_MissingTokenizerFile_ExitsTwoWithOneLine()
    {
        // Act
        var (exitCode, _, error) = Run("tokenize", "--tokenizer", "/nonexistent/tokenizer.json", "--text", "x");

        // Assert
        Assert.Equal(2, exitCode);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("/nonexistent/tokenizer.json", error);
    }

    [Fact]
    public void Tokenize_BothModelAndTokenizer_ExitsTwo()
    {
        // Act
        var (exitCode, _, _) = Run("tokenize", "--model", Fixtures.Path("tiny-llama"), "--tokenizer", Fixtures.Path("tiny-llama", "tokenizer.json"), "--text", "x");

        // Assert
        Assert.Equal(2, exitCode);
    }
}
