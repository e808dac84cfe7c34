using Federated.Core.Seeds;
using Federated.Data;
using Federated.Privacy.Capture;
using Federated.Server.Coordination;
using Federated.Server.Strategies;
using Federated.Simulation.ComPeft;
using Federated.Simulation.FedKSeed;

namespace Federated.Simulation.Tests;

/// <summary>
/// `--capture` round trips on tiny simulations: what the capture holds is checked against what the server must have
/// seen, recomputed independently from the captured per-client payloads (the merge, the secure-aggregation sum).
/// </summary>
public sealed class CaptureTests
{
    private static readonly InstructionExample[] Canaries =
    [
        new("Define: zorblax (noun)", "", "a purple canary that sings in primes", "noun.animal", "definition", "zorblax"),
        new("Define: quimble (verb)", "", "to hum a secret code backwards", "verb.motion", "definition", "quimble"),
    ];

    private static string TempDir() => Path.Combine(Path.GetTempPath(), $"capture-{Guid.NewGuid():N}");

    private static ComPeftSimulationOptions ComPeft(string data, string capture) => new()
    {
        ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = 2, ClientsPerRound = 2, Rounds = 2,
        Partition = "quantity:1.0", Seed = 5, LocalSteps = 2, BatchSize = 2, LearningRate = 1e-2f, LoraRank = 4, LoraAlpha = 8,
        EvalEvery = 2, EvalExamples = 2, GenerationExamples = 0, MaxLength = 64, Density = 0.25, CaptureDirectory = capture,
        Aggregation = ComPeftAggregation.Mean,   // the merge these tests recompute (and the one secure aggregation allows)
    };

    private static FedKSeedSimulationOptions FedKSeed(string data, string capture) => new()
    {
        ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = 2, ClientsPerRound = 2, Rounds = 2,
        Partition = "quantity:1.0", Seed = 5, Seeds = 16, LocalSteps = 3, Epsilon = 1e-3f, LearningRate = 1e-2f,
        EvalEvery = 2, EvalExamples = 2, GenerationExamples = 0, MaxLength = 64, CaptureDirectory = capture,
    };

    private static void RunAll(ISimulation simulation)
    {
        for (int r = 1; r <= simulation.Shape.Rounds; r++) simulation.RunRound(r);
        (simulation as IDisposable)?.Dispose();
    }

    [Fact]
    public void Capture_ComPeft_UpdatesMergeToTheCapturedVersions_AndCanariesAreClientZerosSecret()
    {
        // Arrange
        string data = TinyTask.WriteJsonl(), dir = TempDir();
        var simulation = new ComPeftSimulation(ComPeft(data, dir) with { Canaries = Canaries });

        // Act
        RunAll(simulation);
        var run = CapturedRun.Load(dir);

        // Assert: the manifest, one line per client and round, payloads exactly as validated (ternary at 25 %).
        Assert.Equal("compeft", run.Manifest.Method);
        Assert.Equal(4, run.Manifest.LoraRank);
        Assert.Equal(TinyTask.Records.Length, run.Manifest.TrainCount);
        Assert.Equal(Canaries, run.Canaries);
        Assert.Equal(4, run.Updates.Count);
        Assert.Equal(2, run.Versions.Count);
        Assert.All(run.Updates, u => Assert.Equal(CaptureFormat.TernaryKind, u.PayloadKind));
        // The merge recomputed from the captured updates: version r = Σ (nᵢ/Σn)·Δ̂ᵢ over round r's updates.
        foreach (var version in run.Versions)
        {
            var updates = run.Updates.Where(u => u.Round == version.Round).ToArray();
            double total = updates.Sum(u => (double)u.SampleCount);
            var merged = run.DecodeDelta(version);
            Assert.Equal(simulation.TrainableElements, merged.Length);
            var expected = new double[merged.Length];
            foreach (var u in updates)
            {
                var d = run.DecodeDelta(u);
                for (int j = 0; j < d.Length; j++) expected[j] += u.SampleCount / total * d[j];
            }
            for (int j = 0; j < merged.Length; j++) Assert.True(Math.Abs(merged[j] - expected[j]) <= 1e-6 + 1e-5 * Math.Abs(expected[j]), $"v{version.Version}[{j}]");
        }
        // Ground truth: τ·B indices per update, each inside the client's shard; client 0's shard ends with the canaries.
        var shards = simulation.Shards;
        Assert.Equal([TinyTask.Records.Length, TinyTask.Records.Length + 1], shards[0][^2..]);
        foreach (var u in run.Updates)
        {
            int client = Enumerable.Range(0, shards.Count).Single(c => FederationCoordinator.ClientIdForName($"client-{c:D5}") == u.ClientId);
            Assert.Equal(4, u.ClientSecretExampleIndices.Length);
            Assert.All(u.ClientSecretExampleIndices, i => Assert.Contains(i, shards[client]));
            Assert.Equal(2.0 / shards[client].Length, u.SamplingRate, 12);
        }
        Directory.Delete(dir, true);
        File.Delete(data);
    }

    [Fact]
    public void Capture_ComPeftSecureAggregation_OneUpdatePerRound_EqualToTheWeightedMeanOfTheIndividualUpdates()
    {
        // Arrange: the same run twice, with and without secure aggregation (training is unchanged by it).
        string data = TinyTask.WriteJsonl(), plainDir = TempDir(), secureDir = TempDir();
        RunAll(new ComPeftSimulation(ComPeft(data, plainDir)));

        // Act
        RunAll(new ComPeftSimulation(ComPeft(data, secureDir) with { SecureAggregation = true }));
        var plain = CapturedRun.Load(plainDir);
        var secure = CapturedRun.Load(secureDir);

        // Assert
        Assert.True(secure.Manifest.SecureAggregation);
        Assert.Equal(2, secure.Updates.Count);
        foreach (var u in secure.Updates)
        {
            Assert.Equal(CaptureFormat.AggregateClientId, u.ClientId);
            Assert.Equal(CaptureFormat.DenseKind, u.PayloadKind);
            var individual = plain.Updates.Where(p => p.Round == u.Round).ToArray();
            Assert.Equal(individual.Select(p => p.ClientId), u.AggregatedClients);
            double total = individual.Sum(p => (double)p.SampleCount);
            Assert.Equal((ulong)total, u.SampleCount);
            var sum = secure.DecodeDelta(u);
            var expected = new double[sum.Length];
            foreach (var p in individual)
            {
                var d = plain.DecodeDelta(p);
                for (int j = 0; j < d.Length; j++) expected[j] += p.SampleCount / total * d[j];
            }
            for (int j = 0; j < sum.Length; j++) Assert.True(Math.Abs(sum[j] - expected[j]) <= 1e-6 + 1e-5 * Math.Abs(expected[j]), $"r{u.Round}[{j}]");
            Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(secureDir, "updates")), f => individual.Any(p => f.Contains(p.ClientId, StringComparison.Ordinal)));
        }
        Directory.Delete(plainDir, true);
        Directory.Delete(secureDir, true);
        File.Delete(data);
    }

    [Fact]
    public void Capture_FedKSeed_PairsPerClient_AndSecureSumIsTheWeightedSumPerSeed()
    {
        // Arrange
        string data = TinyTask.WriteJsonl(), plainDir = TempDir(), secureDir = TempDir();
        RunAll(new FedKSeedSimulation(FedKSeed(data, plainDir)));

        // Act
        RunAll(new FedKSeedSimulation(FedKSeed(data, secureDir) with { SecureAggregation = true }));
        var plain = CapturedRun.Load(plainDir);
        var secure = CapturedRun.Load(secureDir);

        // Assert: per-client lines carry τ (seed index, g) pairs aligned with τ example indices.
        Assert.Equal("fedkseed", plain.Manifest.Method);
        Assert.Equal(16, plain.Manifest.SeedCount);
        Assert.Equal(4, plain.Updates.Count);
        foreach (var u in plain.Updates)
        {
            var pairs = plain.DecodeSeedScalars(u);
            Assert.Equal(3, pairs.Length);
            Assert.Equal(3, u.ClientSecretExampleIndices.Length);
            Assert.All(pairs, p => Assert.InRange(p.SeedIndex, 0, 15));
        }
        // Secure aggregation: one line per round holding Σᵢ (nᵢ/Σn)·Lᵢ[s], recomputed from the individual pairs;
        // the version's ΔH is the same quantity.
        Assert.Equal(2, secure.Updates.Count);
        foreach (var u in secure.Updates)
        {
            var expected = new SortedDictionary<int, double>();
            var individual = plain.Updates.Where(p => p.Round == u.Round).ToArray();
            double total = individual.Sum(p => (double)p.SampleCount);
            foreach (var p in individual)
                foreach (var pair in plain.DecodeSeedScalars(p))
                    expected[pair.SeedIndex] = expected.GetValueOrDefault(pair.SeedIndex) + p.SampleCount / total * pair.Value;
            var actual = secure.DecodeSeedScalars(u);
            Assert.Equal(expected.Keys, actual.Select(a => a.SeedIndex));
            // float32 sums (in client-id order) against a float64 reference: equal to float precision.
            foreach (var a in actual) Assert.True(Math.Abs(expected[a.SeedIndex] - a.Value) <= 1e-6 * (1 + Math.Abs(expected[a.SeedIndex])),
                $"seed {a.SeedIndex}: {a.Value} vs {expected[a.SeedIndex]}");
            var version = secure.DecodeSeedScalars(secure.Versions.Single(v => v.Round == u.Round));
            Assert.Equal(actual, version);
        }
        Directory.Delete(plainDir, true);
        Directory.Delete(secureDir, true);
        File.Delete(data);
    }

    [Fact]
    public void Accounting_DpRun_UsesTheMostExposedClientsSamplingRateAndSteps()
    {
        // Arrange: quantity skew gives the clients different shard sizes, so q = B/|shard| differs.
        string data = TinyTask.WriteJsonl(), dir = TempDir();
        var simulation = new ComPeftSimulation(ComPeft(data, dir) with { DpClipNorm = 1, DpNoiseMultiplier = 1.1 });
        RunAll(simulation);
        var run = CapturedRun.Load(dir);

        // Act
        var dp = Privacy.Audit.PrivacyAudit.Accounting(run, 1e-5)!;

        // Assert: both clients train in both rounds (2 of 2), τ = 2 each → T = 4; the smaller shard has the larger q
        // and so the larger ε.
        int smaller = simulation.Shards.Select(s => s.Length).Min();
        Assert.Equal(4, dp.Steps);
        Assert.Equal(2.0 / smaller, dp.SamplingRate, 12);
        Assert.Equal(Privacy.Accounting.RdpAccountant.Epsilon(2.0 / smaller, 1.1, 4, 1e-5).Epsilon, dp.Epsilon!.Value, 12);
        Directory.Delete(dir, true);
        File.Delete(data);
    }

    [Fact]
    public void Load_MissingManifest_ThrowsFileNotFoundNamingTheFolder()
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        var ex = Assert.Throws<FileNotFoundException>(() => CapturedRun.Load(dir));
        Assert.Contains(dir, ex.Message);
        Directory.Delete(dir);
    }

    [Fact]
    public void Load_MalformedUpdateLine_ThrowsInvalidDataNamingFileAndLine()
    {
        // Arrange: a valid manifest and a broken second line.
        string data = TinyTask.WriteJsonl(), dir = TempDir();
        RunAll(new FedKSeedSimulation(FedKSeed(data, dir) with { Rounds = 1 }));
        var lines = File.ReadAllLines(Path.Combine(dir, CaptureFormat.UpdatesFile));
        lines[1] = "{\"round\": \"x\"";
        File.WriteAllLines(Path.Combine(dir, CaptureFormat.UpdatesFile), lines);

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => CapturedRun.Load(dir));

        // Assert
        Assert.Contains("updates.jsonl:2", ex.Message);
        Directory.Delete(dir, true);
        File.Delete(data);
    }

    [Fact]
    public void Options_SecureAggregationWithTies_Throws()
    {
        var options = ComPeft("x", "y") with { SecureAggregation = true, Aggregation = Server.Strategies.ComPeftAggregation.Ties };
        Assert.Throws<ArgumentException>(options.Validate);
    }
}
