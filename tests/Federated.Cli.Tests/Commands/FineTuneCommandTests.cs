using System.Text.Json;
using Federated.Cli.Commands;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated finetune` and `eval --generation-examples` on the tiny-llama fixture (console captured, serial).</summary>
[Collection("Console")]
public sealed class FineTuneCommandTests
{
    [Fact]
    public void FineTune_LoraOnTinyData_WritesSummaryAndLoadableAdapter()
    {
        // Arrange
        string data = TinyJsonl.Write(6);
        string outDir = Path.Combine(Path.GetTempPath(), $"finetune-cli-out-{Guid.NewGuid():N}");

        // Act
        var (exitCode, output, error) = CliHarness.Run(FineTuneCommand.Create(),
            ["finetune", "--model", Fixtures.Path("tiny-llama"), "--data", data, "--eval-data", data, "--mode", "lora", "--steps", "3",
             "--batch-size", "2", "--lora-rank", "4", "--eval-examples", "4", "--generation-examples", "2", "--threads", "1",
             "--out", outDir, "--json"]);

        // Assert
        Assert.True(exitCode == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(3, root.GetProperty("step").GetInt32());
        Assert.True(root.GetProperty("final").GetProperty("eval_loss").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(outDir, "summary.json")));
        var model = CausalLm.Load(Fixtures.Path("tiny-llama"));
        Assert.Equal(4, LoraAdapter.Load(model, Path.Combine(outDir, "adapter")).Config.Rank);
        Directory.Delete(outDir, recursive: true);
        File.Delete(data);
    }

    [Fact]
    public void FineTune_UnknownMode_ExitsTwoWithOneLine()
    {
        var (exitCode, _, error) = CliHarness.Run(FineTuneCommand.Create(),
            ["finetune", "--model", Fixtures.Path("tiny-llama"), "--mode", "half", "--out", Path.GetTempPath()]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--mode must be full or lora", error);
    }

    [Fact]
    public void Eval_NegativeGenerationExamples_ExitsTwo()
    {
        var (exitCode, _, error) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", Fixtures.Path("tiny-llama"), "--generation-examples", "-1"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--generation-examples must be ≥ 0", error);
    }
}
