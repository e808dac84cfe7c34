using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Commands;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated simulate --method compeft` end to end on the tiny-llama fixture (console captured, serial).</summary>
[Collection("Console")]
public sealed class SimulateCommandTests
{
    private static (int ExitCode, string Out, string Error) Run(params string[] args) => CliHarness.Run(SimulateCommand.Create(), args);

    [Fact]
    public void Simulate_Compeft_WritesSummaryWithByteAccountingAndLoadableAdapter()
    {
        // Arrange
        string data = TinyJsonl.Write();
        string outDir = Path.Combine(Path.GetTempPath(), $"simulate-cli-out-{Guid.NewGuid():N}");

        // Act
        var (exitCode, output, error) = Run("simulate", "--method", "compeft", "--model", Fixtures.Path("tiny-llama"),
            "--data", data, "--eval-data", data, "--clients", "2", "--clients-per-round", "2", "--rounds", "1",
            "--local-steps", "2", "--batch-size", "2", "--lora-rank", "4", "--density", "0.1", "--partition", "iid",
            "--eval-examples", "2", "--generation-examples", "0", "--threads", "1", "--out", outDir, "--json");

        // Assert
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("compeft", root.GetProperty("method").GetString());
        // tiny-llama: 2 layers × (q_proj B [64, 4] + v_proj B [32, 4]) = 768 elements → 3,072 fp32 bytes.
        Assert.Equal(3072, root.GetProperty("fp32_update_bytes").GetInt64());
        Assert.InRange(root.GetProperty("bytes_up_per_client_round").GetDouble(), 1, 3072.0 / 4);
        Assert.True(File.Exists(Path.Combine(outDir, "summary.json")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")).Length);
        var model = CausalLm.Load(Fixtures.Path("tiny-llama"));
        Assert.Equal(4, LoraAdapter.Load(model, Path.Combine(outDir, "adapter")).Config.Rank);
        Directory.Delete(outDir, recursive: true);
        File.Delete(data);
    }

    [Fact]
    public void Simulate_UnknownAggregate_ExitsTwoWithOneLine()
    {
        var (exitCode, _, error) = Run("simulate", "--method", "compeft", "--model", Fixtures.Path("tiny-llama"), "--aggregate", "median");
        Assert.Equal(2, exitCode);
        Assert.Contains("--aggregate 'median'", error);
    }
}
