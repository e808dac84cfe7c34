using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Commands;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated bench --json` prints the documented keys (values are timings, so only their sanity is checked).</summary>
[Collection("Console")]
public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_TinyConfigJson_PrintsEveryKeyWithPositiveValues()
    {
        // Act
        (int exitCode, string output, _) = (0, "", "");
        try
        {
            (exitCode, output, _) = CliHarness.Run(BenchCommand.Create(), "bench", "--config", Fixtures.Path("tiny-llama", "config.json"), "--no-gemm",
                "--seconds", "0", "--batch-size", "1", "--seq-len", "8", "--threads", "1", "--json");
        }
        finally { Core.Kernels.EngineThreads.Count = Environment.ProcessorCount; }

        // Assert
        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var r = json.RootElement;
        Assert.Empty(r.GetProperty("gemm").EnumerateArray());
        foreach (var key in new[] { "forward_ms", "forward_tokens_per_s", "zo_step_ms", "lora_step_ms", "generate_tokens_per_s", "zo_peak_mb", "inference_peak_mb" })
            Assert.True(r.GetProperty(key).GetDouble() > 0, key);
        Assert.Equal(1, r.GetProperty("threads").GetInt32());
        Assert.Equal(176_960, r.GetProperty("parameters").GetInt64()); // tiny-llama's parameter count (fixtures README)
    }
}
