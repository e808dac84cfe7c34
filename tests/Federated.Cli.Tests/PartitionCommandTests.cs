using System.Diagnostics;
using System.Text.Json;
using Federated.TestKit;

namespace Federated.Cli.Tests;

/// <summary>Runs the built `federated` in a child process (no shared Console redirection between parallel tests).</summary>
public sealed class PartitionCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fed-cli-part-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "federated.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(entireProcessTree: true); throw new TimeoutException("federated did not exit in 120 s."); }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Partition_BuiltinJson_ReportsEveryClientAndWritesHeatmap()
    {
        // Act
        var (code, stdout, stderr) = Run("partition", "--data", "builtin:validation", "--clients", "6", "--scheme",
            "dirichlet:0.5+holdout:noun.animal", "--seed", "3", "--out", _dir, "--json");

        // Assert
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("dirichlet:0.5+holdout:noun.animal", root.GetProperty("scheme").GetString());
        Assert.Equal(3, root.GetProperty("seed").GetInt32());
        var clients = root.GetProperty("clients").EnumerateArray().ToArray();
        Assert.Equal(6, clients.Length);
        int total = clients.Sum(c => c.GetProperty("size").GetInt32());
        Assert.Equal(root.GetProperty("records").GetInt32(), total + root.GetProperty("held_out").GetInt32());
        Assert.All(clients, c => Assert.False(c.GetProperty("categories").TryGetProperty("noun.animal", out _)));
        Assert.All(clients, c => Assert.Equal(c.GetProperty("size").GetInt32(),
            c.GetProperty("categories").EnumerateObject().Sum(p => p.Value.GetInt32())));
        var png = File.ReadAllBytes(Path.Combine(_dir, "partition.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(_dir, "partition.svg")));
    }

    [Fact]
    public void Partition_WriteShards_FilesHoldEachClientsRecordsInPartitionOrder()
    {
        // Arrange: the partition computed directly (what the simulator does with the same data, clients, scheme, seed).
        var records = Federated.Data.BuiltinDataset.LoadByName("builtin:validation").Records;
        var expected = Federated.Data.Partitioning.PartitionScheme.Parse("dirichlet:0.5").Apply(records.Select(r => r.Category).ToArray(), 4, 5);
        string shards = Path.Combine(_dir, "shards");

        // Act
        var (code, _, stderr) = Run("partition", "--data", "builtin:validation", "--clients", "4", "--scheme", "dirichlet:0.5", "--seed", "5",
            "--out", _dir, "--write-shards", shards, "--json");

        // Assert
        Assert.True(code == 0, stderr);
        for (int c = 0; c < 4; c++)
        {
            var written = Federated.Data.InstructionDataset.Load(Path.Combine(shards, $"client-{c:D5}.jsonl")).Records;
            Assert.Equal(expected.Clients[c].Select(i => records[i]), written);
        }
    }

    [Theory]
    [InlineData("--scheme", "dirichlet:abc")]
    [InlineData("--scheme", "iid+holdout:not.a.category")]
    [InlineData("--data", "/no/such/file.jsonl")]
    public void Partition_BadInput_ExitsTwoWithOneLine(string option, string value)
    {
        var (code, _, stderr) = Run("partition", option, value, "--out", _dir);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", stderr);
    }

    [Fact]
    public void BuildWordNet_Sample_WritesSplitsLicenseAndReadme()
    {
        // Act
        var (code, stdout, stderr) = Run("data", "build-wordnet", "--wordnet", Path.Combine(Fixtures.RepoRoot, "tests", "data", "wordnet-sample"),
            "--out", _dir, "--json");

        // Assert: the sample has 10 entries with tagsense_cnt ≥ 1 → 20 records over the four splits
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(10, doc.RootElement.GetProperty("entries").GetInt32());
        Assert.Equal(20, doc.RootElement.GetProperty("records").EnumerateObject().Sum(p => p.Value.GetInt32()));
        foreach (var name in new[] { "pretrain.jsonl.gz", "train.jsonl.gz", "validation.jsonl.gz", "test.jsonl.gz", "LICENSE-WordNet", "README.md" })
            Assert.True(File.Exists(Path.Combine(_dir, "wordnet", name)), name);
    }
}
