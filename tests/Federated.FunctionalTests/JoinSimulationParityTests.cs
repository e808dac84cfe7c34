using System.Runtime.InteropServices;
using System.Text.Json;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data;
using Federated.Server.Storage;
using Federated.Server.Strategies;
using Federated.Simulation.ComPeft;
using Federated.Simulation.FedKSeed;

namespace Federated.FunctionalTests;

/// <summary>
/// A networked federation equals a simulated one: `federated partition --write-shards`, `federated serve` and three
/// `federated join` processes on loopback run two rounds with 2 of 3 clients per round on the tiny Llama fixture; the
/// simulation (the same coordinator in process, its clients enrolled under the join processes' names) must select the
/// same clients every round, store byte-identical versions, and end with a bit-identical global model. What makes
/// this hold: the coordinator derives a client's id from its name, and the id ranks it in selection, seeds its steps
/// (step_seed = FederationCoordinator.ClientRoundSeed(seed, round, id)) and orders aggregation; `--expect-clients 3`
/// makes every round draw from all three (the simulation expects its N); the shards are the simulator's partition in
/// partition order; ComPEFT's density travels as float32 and the simulator compresses with that float value. Real
/// processes and real time (poll intervals), nothing asserts on durations.
/// </summary>
public sealed class JoinSimulationParityTests : IDisposable
{
    private const int Rounds = 2, Clients = 3, ClientsPerRound = 2, SeedCount = 16, LocalSteps = 4, Seed = 7;
    private const float Epsilon = 1e-3f, LearningRate = 1e-2f;
    private const int LoraRank = 4, ComPeftSteps = 3, ComPeftBatch = 2;
    private const float LoraAlpha = 8f, Density = 0.25f, ComPeftLearningRate = 1e-2f;
    private const string Token = "parity-test-token", Scheme = "iid";

    private readonly CliProcesses _cli = new("federated-parity");

    [Fact]
    public async Task Join_FedKSeedThreeClientsTwoPerRound_SameSelectionAndGlobalModelBitIdenticalToSimulation()
    {
        // Arrange: 24 records in 3 categories, partitioned by the CLI into the simulator's shards (8 per client).
        var (model, data) = await WriteDataAndShardsAsync(Clients);

        // Act: three edge client processes until FINISHED, then the simulation under their names.
        string[] names = await RunFederationAsync(model,
            "--seed-count", $"{SeedCount}", "--local-steps", $"{LocalSteps}", "--epsilon", CliProcesses.Inv(Epsilon),
            "--learning-rate", CliProcesses.Inv(LearningRate));
        float[] networked = ReplayServerVersions(model, NetworkedStore);
        float[] simulated = SimulateFedKSeed(model, data, names, Rounds, ClientsPerRound);

        // Assert
        AssertSameRounds();
        float[] baseWeights = CausalLm.Load(model).Weights.ToArray();
        Assert.False(MemoryMarshal.AsBytes(baseWeights.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(networked.AsSpan())),
            "the networked rounds left the model unchanged");
        int mismatch = FirstBitMismatch(simulated, networked);
        Assert.True(mismatch < 0, mismatch < 0 ? "" :
            $"weight {mismatch}: simulated {simulated[mismatch]:R}, networked {networked[mismatch]:R}\n{_cli.Log}");
    }

    [Fact]
    public async Task Join_ComPeftThreeClientsTwoPerRound_SameSelectionAndGlobalAdapterBitIdenticalToSimulation()
    {
        // Arrange: FFA-LoRA r = 4 on q_proj/v_proj, density 0.25 (ternary uploads, α·σ scale), 3 AdamW steps of batch 2.
        var (model, data) = await WriteDataAndShardsAsync(Clients);

        // Act
        string[] names = await RunFederationAsync(model, "--method", "compeft",
            "--lora-rank", $"{LoraRank}", "--lora-alpha", CliProcesses.Inv(LoraAlpha), "--lora-targets", "q_proj,v_proj",
            "--density", CliProcesses.Inv(Density), "--local-steps", $"{ComPeftSteps}", "--batch-size", $"{ComPeftBatch}",
            "--learning-rate", CliProcesses.Inv(ComPeftLearningRate));
        var (initial, networked) = ReplayServerAdapter(model, NetworkedStore);
        float[] simulated;
        using (var simulation = new ComPeftSimulation(new ComPeftSimulationOptions
        {
            ModelDirectory = model, Data = data, EvalData = data, Clients = Clients, ClientsPerRound = ClientsPerRound, Rounds = Rounds,
            Seed = Seed, Partition = Scheme, LocalSteps = ComPeftSteps, BatchSize = ComPeftBatch, LearningRate = ComPeftLearningRate,
            LoraRank = LoraRank, LoraAlpha = LoraAlpha, TargetModules = ["q_proj", "v_proj"], Density = Density,
            EvalEvery = 1000, EvalExamples = 1, GenerationExamples = 0, ClientNames = names, StatePath = SimulatedStore,
        }))
        {
            for (int round = 1; round <= Rounds; round++) simulation.RunRound(round);
            simulated = simulation.GlobalAdapter.Weights.ToArray();
        }

        // Assert
        AssertSameRounds();
        Assert.False(MemoryMarshal.AsBytes(initial.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(networked.AsSpan())),
            "the networked rounds left the adapter unchanged");
        int mismatch = FirstBitMismatch(simulated, networked);
        Assert.True(mismatch < 0, mismatch < 0 ? "" :
            $"adapter weight {mismatch}: simulated {simulated[mismatch]:R}, networked {networked[mismatch]:R}\n{_cli.Log}");
    }

    private string NetworkedStore => Path.Combine(_cli.Directory, "server", "federation.db");
    private string SimulatedStore => Path.Combine(_cli.Directory, "simulation", "federation.db");

    /// <summary>Both stores hold, round by round, updates from the same 2 of the 3 clients (the quorum is M, so the
    /// clients that pushed are the selection) and the same version bytes.</summary>
    private void AssertSameRounds()
    {
        using var networked = new SqliteFederationStore(NetworkedStore);
        using var simulated = new SqliteFederationStore(SimulatedStore);
        for (int round = 1; round <= Rounds; round++)
        {
            var expected = networked.ListUpdates(round).Select(u => u.ClientId).ToArray();
            Assert.Equal(ClientsPerRound, expected.Length);
            Assert.Equal(expected, simulated.ListUpdates(round).Select(u => u.ClientId).ToArray());
        }
        var versions = networked.ListVersions();
        Assert.Equal(Rounds, versions.Count);
        Assert.Equal(versions.Select(v => Convert.ToHexString(v.Payload)), simulated.ListVersions().Select(v => Convert.ToHexString(v.Payload)));
    }

    [Fact]
    public async Task Join_ClientKilledWithSigkillMidFederationAndRestarted_GlobalModelBitIdenticalToSimulation()
    {
        // Arrange: two clients, five rounds (both selected every round, so the federation waits for the killed one).
        const int clients = 2, rounds = 5;
        var (model, data) = await WriteDataAndShardsAsync(clients);
        string tokens = Path.Combine(_cli.Directory, "tokens.txt");
        await File.WriteAllTextAsync(tokens, Token + "\n");
        int port = CliProcesses.FreePort();
        var server = _cli.Start("serve", "--model", model, "--data-dir", Path.Combine(_cli.Directory, "server"), "--port", $"{port}",
            "--rounds", $"{rounds}", "--clients-per-round", $"{clients}", "--min-clients", $"{clients}", "--enroll-tokens", tokens,
            "--seed", $"{Seed}", "--seed-count", $"{SeedCount}", "--local-steps", $"{LocalSteps}", "--epsilon", CliProcesses.Inv(Epsilon),
            "--learning-rate", CliProcesses.Inv(LearningRate));
        string[] Join(int c) => ["join", "--server", $"http://127.0.0.1:{port}", "--token", Token, "--model", model,
            "--data", Path.Combine(_cli.Directory, "shards", $"client-{c:D5}.jsonl"), "--state", Path.Combine(_cli.Directory, $"client-{c}")];
        var steady = _cli.Start(Join(0));
        var doomed = _cli.Start(Join(1));

        // Act: SIGKILL client 1 as soon as it has synced to version 2 (so a restart from version 0 would replay two
        // versions in one step), then start it again on the same state directory.
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
            while (!LinesOf(doomed).Any(l => l.Contains("Synced model version 1 → 2", StringComparison.Ordinal)))
            {
                Assert.False(doomed.HasExited, _cli.Log);
                await Task.Delay(10, limit.Token);
            }
        await CliProcesses.Kill(doomed);
        var restarted = _cli.Start(Join(1));
        Assert.True(await CliProcesses.WaitExit(restarted, TimeSpan.FromSeconds(120)) == 0, _cli.Log);
        Assert.True(await CliProcesses.WaitExit(steady, TimeSpan.FromSeconds(60)) == 0, _cli.Log);
        await CliProcesses.Kill(server);
        string[] names = [.. Enumerable.Range(0, clients).Select(c => ReadClientName(Path.Combine(_cli.Directory, $"client-{c}", "client.json")))];
        float[] networked = ReplayServerVersions(model, NetworkedStore, rounds);
        float[] simulated = SimulateFedKSeed(model, data, names, rounds);

        // Assert: the restarted client trained again (it was killed mid-federation), and the model is the uninterrupted one.
        Assert.True(LinesOf(restarted).Any(l => l.Contains(" trained on ", StringComparison.Ordinal)), _cli.Log);
        int mismatch = FirstBitMismatch(simulated, networked);
        Assert.True(mismatch < 0, mismatch < 0 ? "" :
            $"weight {mismatch}: simulated {simulated[mismatch]:R}, networked {networked[mismatch]:R}\n{_cli.Log}");
    }

    /// <summary>The FedKSeed simulation of the networked run (the join processes' names; all clients every round when
    /// <paramref name="clientsPerRound"/> is their count): its global weights.</summary>
    private float[] SimulateFedKSeed(string model, string data, string[] names, int rounds, int? clientsPerRound = null)
    {
        using var simulation = new FedKSeedSimulation(new FedKSeedSimulationOptions
        {
            ModelDirectory = model, Data = data, EvalData = data, Clients = names.Length, ClientsPerRound = clientsPerRound ?? names.Length, Rounds = rounds,
            Seeds = SeedCount, Seed = Seed, LocalSteps = LocalSteps, Epsilon = Epsilon, LearningRate = LearningRate,
            Partition = Scheme, EvalEvery = 1000, EvalExamples = 1, GenerationExamples = 0, ClientNames = names, StatePath = SimulatedStore,
        });
        for (int round = 1; round <= rounds; round++) simulation.RunRound(round);
        return simulation.GlobalModel.Weights.ToArray();
    }

    /// <summary>The lines one process printed so far.</summary>
    private IEnumerable<string> LinesOf(System.Diagnostics.Process process)
    {
        string tag = $"[join {process.Id}] ";
        return _cli.Log.Split('\n').Where(l => l.StartsWith(tag, StringComparison.Ordinal));
    }

    /// <summary>data.jsonl (24 records, 3 categories) and `federated partition --write-shards` into shards/.</summary>
    private async Task<(string Model, string Data)> WriteDataAndShardsAsync(int clients)
    {
        string data = Path.Combine(_cli.Directory, "data.jsonl");
        InstructionDatasetWriter.Write(data, Enumerable.Range(0, 24).Select(i => new InstructionExample(
            $"Define word number {i}.", "", $"Word {i} is a {(i % 3 == 0 ? "noun" : i % 3 == 1 ? "verb" : "adjective")}.", $"cat{i % 3}")));
        var partition = _cli.Start("partition", "--data", data, "--clients", $"{clients}", "--scheme", Scheme, "--seed", $"{Seed}",
            "--out", Path.Combine(_cli.Directory, "partition"), "--write-shards", Path.Combine(_cli.Directory, "shards"), "--json");
        Assert.True(await CliProcesses.WaitExit(partition, TimeSpan.FromSeconds(30)) == 0, _cli.Log);
        return (CliProcesses.Fixture("tiny-llama"), data);
    }

    /// <summary>`federated serve` (2 of the 3 clients per round, all 3 expected, the test's seed and method arguments) and
    /// one `federated join` process per shard until FINISHED; then kills the server and returns the clients' names
    /// (their client.json), by shard.</summary>
    private async Task<string[]> RunFederationAsync(string model, params string[] methodArgs)
    {
        string tokens = Path.Combine(_cli.Directory, "tokens.txt");
        await File.WriteAllTextAsync(tokens, Token + "\n");
        int port = CliProcesses.FreePort();
        var server = _cli.Start(["serve", "--model", model, "--data-dir", Path.Combine(_cli.Directory, "server"), "--port", $"{port}",
            "--rounds", $"{Rounds}", "--clients-per-round", $"{ClientsPerRound}", "--min-clients", $"{ClientsPerRound}",
            "--expect-clients", $"{Clients}", "--enroll-tokens", tokens, "--seed", $"{Seed}", .. methodArgs]);
        var joins = Enumerable.Range(0, Clients).Select(c => _cli.Start("join", "--server", $"http://127.0.0.1:{port}", "--token", Token,
            "--model", model, "--data", Path.Combine(_cli.Directory, "shards", $"client-{c:D5}.jsonl"),
            "--state", Path.Combine(_cli.Directory, $"client-{c}"))).ToArray();
        foreach (var join in joins) Assert.True(await CliProcesses.WaitExit(join, TimeSpan.FromSeconds(90)) == 0, _cli.Log);
        await CliProcesses.Kill(server);
        return [.. Enumerable.Range(0, Clients).Select(c => ReadClientName(Path.Combine(_cli.Directory, $"client-{c}", "client.json")))];
    }

    /// <summary>The server's global adapter: the shared initial adapter (A from the seed, B = 0), then each stored
    /// version's payload decoded into zeros and added (what a client that synced after every round holds). Returns the
    /// initial and final adapter weights.</summary>
    private static (float[] Initial, float[] Final) ReplayServerAdapter(string modelDir, string database)
    {
        IReadOnlyList<Federated.Server.Domain.ModelVersionRecord> versions;
        using (var store = new SqliteFederationStore(database)) versions = store.ListVersions();
        Assert.Equal(Rounds, versions.Count);
        var lm = CausalLm.Load(modelDir);
        var config = new LoraConfig { Rank = LoraRank, Alpha = LoraAlpha, TargetModules = ["q_proj", "v_proj"], FanInFanOut = lm.Projections.Any(p => p.Conv1D) };
        var adapter = LoraAdapter.Create(lm, config, Seed);
        var layout = LoraUpdateLayout.Create(adapter, freezeA: true);
        float[] initial = adapter.Weights.ToArray();
        foreach (var version in versions)
        {
            var change = new float[layout.ElementCount];
            Federated.Compression.AdapterUpdatePayload.Accumulate(version.Payload, change);
            layout.AddTo(adapter, change);
        }
        return (initial, adapter.Weights.ToArray());
    }

    /// <summary>The server's global model: from the base weights, replay each stored version's ΔH in order
    /// (w ← w − η·ΔH[s]·z(s)), exactly what a client that synced after every round holds.</summary>
    private static float[] ReplayServerVersions(string modelDir, string database, int rounds = Rounds)
    {
        IReadOnlyList<Federated.Server.Domain.ModelVersionRecord> versions;
        using (var store = new SqliteFederationStore(database)) versions = store.ListVersions();
        Assert.Equal(rounds, versions.Count);
        var strategy = new FedKSeedStrategy(new FedKSeedStrategyOptions
        {
            SeedCount = SeedCount, SeedPoolMasterSeed = Seed, LocalSteps = LocalSteps, Epsilon = Epsilon, LearningRate = LearningRate,
        });
        var lm = CausalLm.Load(modelDir);
        var trainable = TrainableSet.Create(lm.Parameters, null);
        var pool = SeedPool.Derive(Seed, SeedCount);
        foreach (var version in versions)
        {
            strategy.Apply(version);
            var delta = strategy.GetModelDelta(version.Version - 1);
            var steps = delta.SeedIndices.Select((s, i) => new SeedScalar((int)s, delta.ScalarDeltas[i])).ToArray();
            SeedPerturbation.Replay(lm, trainable, pool, steps, LearningRate);
        }
        return lm.Weights.ToArray();
    }

    private static int FirstBitMismatch(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = MemoryMarshal.Cast<float, int>(expected.AsSpan());
        var a = MemoryMarshal.Cast<float, int>(actual.AsSpan());
        for (int i = 0; i < e.Length; i++) if (e[i] != a[i]) return i;
        return -1;
    }

    private static string ReadClientName(string stateFile)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(stateFile));
        return json.RootElement.GetProperty("client_name").GetString() ?? throw new InvalidDataException($"{stateFile} has no client_name.");
    }

    public void Dispose() => _cli.Dispose();
}
