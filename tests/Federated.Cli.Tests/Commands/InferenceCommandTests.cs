using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Commands;
using Federated.Core.IO;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated generate` and `federated score` end to end against the PyTorch references of the fixtures.</summary>
[Collection("Console")]
public sealed class InferenceCommandTests
{
    private static (int ExitCode, string Out, string Error) Run(params string[] args) =>
        CliHarness.Run(args[0] == "generate" ? GenerateCommand.Create() : ScoreCommand.Create(), args);

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-gpt2")]
    public void Generate_Prompt0Greedy_PrintsPyTorchGreedyIds(string model)
    {
        // Arrange: prompt 0 of prompts.json and its 16 greedy ids, both from the PyTorch reference run.
        using var prompts = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path(model, "prompts.json")));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var expected = reference.ReadInt32("generate.prompt0.ids");
        var promptIds = reference.ReadInt32("prompt0.input_ids");

        // Act
        var (exitCode, output, error) = Run("generate", "--model", Fixtures.Path(model), "--prompt", prompts.RootElement[0].GetString()!,
            "--max-new-tokens", "16", "--json");

        // Assert
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(promptIds, json.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(expected, json.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public void Score_BatchRowsAsIds_EqualsPyTorchBatchLoss()
    {
        // Arrange: the two rows of batch.input_ids [2, 24]; both have 23 targets, so the token-weighted mean is batch.loss.
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        float expected = reference.ReadFloat32("batch.loss")[0];
        string path = Path.Combine(Path.GetTempPath(), $"score-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, [JsonSerializer.Serialize(new { ids = ids[..24] }), JsonSerializer.Serialize(new { ids = ids[24..] })]);
        try
        {
            // Act
            var (exitCode, output, error) = Run("score", "--model", Fixtures.Path("tiny-llama"), "--data", path, "--json");

            // Assert
            Assert.True(exitCode == 0, error);
            using var json = JsonDocument.Parse(output);
            double loss = json.RootElement.GetProperty("loss").GetDouble();
            Assert.True(Math.Abs(loss - expected) <= 1e-5 * expected, $"loss {loss}, PyTorch {expected}");
            Assert.Equal(46, json.RootElement.GetProperty("tokens").GetInt64());
            Assert.Equal(2, json.RootElement.GetProperty("sequences").GetInt32());
            Assert.Equal(Math.Exp(loss), json.RootElement.GetProperty("perplexity").GetDouble(), 9);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Score_MalformedLine_ExitsTwoNamingFileAndLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"score-bad-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, ["{\"text\": \"fine\"}", "{\"words\": 3}"]);
        try
        {
            var (exitCode, _, error) = Run("score", "--model", Fixtures.Path("tiny-llama"), "--data", path);

            Assert.Equal(2, exitCode);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains($"{path}:2", error);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Generate_ModelFolderWithoutConfig_ExitsTwoNamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("no-config-").FullName;
        try
        {
            var (exitCode, _, error) = Run("generate", "--model", dir, "--prompt", "hello");

            Assert.Equal(2, exitCode);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains("config.json", error);
        }
        finally { Directory.Delete(dir, true); }
    }
}
