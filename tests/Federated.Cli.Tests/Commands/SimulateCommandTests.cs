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
    public void Simulate_FedKSeedRun_ReportsPairedFinalMinusBaseWithStandardError()
    {
        // Arrange
        string data = TinyJsonl.Write();
        string outDir = Path.Combine(Path.GetTempPath(), $"simulate-cli-paired-{Guid.NewGuid():N}");

        // Act
        var (exitCode, output, error) = Run("simulate", "--model", Fixtures.Path("tiny-llama"), "--data", data, "--eval-data", data,
            "--clients", "2", "--clients-per-round", "2", "--rounds", "1", "--seeds", "16", "--local-steps", "3", "--lr", "1e-2",
            "--partition", "iid", "--eval-examples", "4", "--generation-examples", "0", "--threads", "1", "--out", outDir);

        // Assert: the console line, and summary.json's delta: final − base over the same 4 records.
        Assert.True(exitCode == 0, error);
        Assert.Contains("final − base, paired over the same 4 records", error);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = json.RootElement;
        var loss = root.GetProperty("delta").GetProperty("loss");
        Assert.Equal(4, loss.GetProperty("n").GetInt32());
        double expected = root.GetProperty("final").GetProperty("eval_loss").GetDouble() - root.GetProperty("base").GetProperty("eval_loss").GetDouble();
        Assert.Equal(expected, loss.GetProperty("mean").GetDouble(), 1e-9);
        Assert.True(loss.GetProperty("se").GetDouble() >= 0);
        Assert.Equal(2, loss.GetProperty("ci95").GetArrayLength());
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
