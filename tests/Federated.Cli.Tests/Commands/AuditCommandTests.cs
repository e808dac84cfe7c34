using System.Text.Json;
using Federated.Cli.Commands;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated audit` on the tiny-llama fixture (console captured, serial).</summary>
[Collection("Console")]
public sealed class AuditCommandTests
{
    private static (int ExitCode, string Out, string Error) Run(params string[] args) => CliHarness.Run(AuditCommand.Create(), args);

    [Fact]
    public void Help_ShowsAWorkingExample()
    {
        var (exitCode, output, _) = Run("audit", "--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("federated audit --method compeft", output);
        Assert.Contains("--probes", output);
    }

    [Theory]
    [InlineData("audit")]                                                      // neither --run nor --method
    [InlineData("audit", "--method", "sgd")]
    [InlineData("audit", "--method", "compeft", "--probes", "token-set,telepathy")]
    public void BadInput_ExitsTwoWithOneLine(params string[] args)
    {
        var (exitCode, _, error) = Run(args);
        Assert.Equal(2, exitCode);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Run_MissingCapture_ExitsTwoNamingTheFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"audit-missing-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var (exitCode, _, error) = Run("audit", "--run", dir, "--threads", "1");
        Assert.Equal(2, exitCode);
        Assert.Contains("run.json", error);
        Directory.Delete(dir);
    }

    [Fact]
    public void Audit_CompeftTinyRun_WritesAuditJsonAndSelfContainedReport()
    {
        // Arrange
        string data = TinyJsonl.Write();
        string outDir = Path.Combine(Path.GetTempPath(), $"audit-cli-out-{Guid.NewGuid():N}");

        // Act
        var (exitCode, output, error) = Run("audit", "--method", "compeft", "--model", Fixtures.Path("tiny-llama"),
            "--data", data, "--eval-data", data, "--clients", "2", "--clients-per-round", "2", "--rounds", "1",
            "--canaries", "3", "--canary-copies", "1", "--dp-clip", "1", "--dp-noise", "1", "--eval-examples", "2",
            "--inversion-evaluations", "100", "--threads", "1", "--out", outDir, "--json");

        // Assert
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("compeft", root.GetProperty("method").GetString());
        Assert.InRange(root.GetProperty("token_set").GetProperty("recall").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("inversion").GetProperty("true_texts").GetArrayLength() > 0);
        var mia = root.GetProperty("mia");
        Assert.Equal("canaries", mia.GetProperty("member_source").GetString());
        Assert.Equal(3, mia.GetProperty("loss_attack").GetProperty("members").GetInt32());
        Assert.Equal(3, mia.GetProperty("loss_attack").GetProperty("non_members").GetInt32());
        Assert.True(root.GetProperty("dp").GetProperty("epsilon").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(outDir, "audit.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "roc.png")));
        string html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("reconstructed by the server", html);
        Directory.Delete(outDir, recursive: true);
        File.Delete(data);
    }

    [Fact]
    public void Audit_FedKSeedSecureAggregationRun_ReportsZeroOrderProbesAndSkipsTokenSet()
    {
        // Arrange
        string data = TinyJsonl.Write();
        string evalData = TinyJsonl.Write(offset: 100);   // other records: the scalar-matching test's non-members
        string outDir = Path.Combine(Path.GetTempPath(), $"audit-cli-zo-{Guid.NewGuid():N}");

        // Act
        var (exitCode, output, error) = Run("audit", "--method", "fedkseed", "--model", Fixtures.Path("tiny-llama"),
            "--data", data, "--eval-data", evalData, "--clients", "2", "--clients-per-round", "2", "--rounds", "1", "--seeds", "16",
            "--local-steps", "3", "--canaries", "2", "--canary-copies", "1", "--secure-aggregation", "--eval-examples", "2",
            "--threads", "1", "--out", outDir, "--json");

        // Assert
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("fedkseed", root.GetProperty("method").GetString());
        Assert.True(root.GetProperty("defences").GetProperty("secure_aggregation").GetBoolean());
        Assert.Equal("round 1 secure-aggregate", root.GetProperty("zo_gradient").GetProperty("update").GetString());
        Assert.True(root.GetProperty("zo_gradient").GetProperty("pairs").GetInt32() > 0);
        Assert.InRange(root.GetProperty("zo_membership").GetProperty("roc").GetProperty("auc").GetDouble(), 0, 1);
        Assert.False(root.TryGetProperty("token_set", out _));
        Assert.Contains(root.GetProperty("skipped").EnumerateArray(), s => s.GetString()!.StartsWith("token-set", StringComparison.Ordinal));
        Directory.Delete(outDir, recursive: true);
        File.Delete(data);
        File.Delete(evalData);
    }
}
