using Federated.Client.FedKSeed;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Strategies;
using Federated.Simulation.FedKSeed;
using Google.Protobuf;

namespace Federated.Simulation.Tests;

/// <summary>
/// FedKSeed end to end on the tiny-llama fixture: a client's steps travel as protobuf bytes to the server strategy,
/// whose ΔH replay must rebuild exactly the model the client's own scalars define.
/// </summary>
public sealed class FedKSeedRoundTests
{
    private const int SeedCount = 16;
    private const float LearningRate = 1e-2f;

    [Fact]
    public void ServerReplay_AfterOneSingleClientRound_EqualsClientReplayBitForBit_AndTracksTheLocalTrajectory()
    {
        // Arrange: one client, one round. At this η the tiny model's |g| passes 1000 within 12 steps, so the scalar bound G
        // is lifted: the test is about replay, and every step must reach the server.
        var (model, examples) = TinyTask.LoadModelAndExamples();
        model.KeepActivationsForBackward = false;
        var w0 = model.Weights.ToArray();
        var trainable = TrainableSet.All(model.Parameters);
        var pool = SeedPool.Derive(7, SeedCount);
        var strategy = new FedKSeedStrategy(new FedKSeedStrategyOptions { SeedCount = SeedCount, SeedPoolMasterSeed = 7, LocalSteps = 12, Epsilon = 1e-3f, LearningRate = LearningRate, MaxAbsScalar = 1e6f });
        var parameters = (FedKSeedRoundParameters)strategy.ConfigureRound(1, 0);

        // Act: the client trains in place (its trajectory), then its steps go over the wire.
        var local = new FedKSeedTrainer(model, trainable, pool).Train(
            new FedKSeedRoundPlan(1, parameters.LocalSteps, parameters.Epsilon, parameters.LearningRate, []), examples, clientStreamSeed: 99);
        var trajectory = model.Weights.ToArray();
        var message = new SeedScalars();
        foreach (var step in local.Steps) { message.SeedIndices.Add((uint)step.SeedIndex); message.Scalars.Add(step.Value); }
        byte[] payload = SeedScalars.Parser.ParseFrom(message.ToByteArray()).ToByteArray();
        strategy.ValidateUpdate(parameters, payload);
        var record = new RoundRecord(1, RoundPhase.Aggregating, RoundOutcome.None, 0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, ["c"]);
        var next = strategy.Aggregate(record, [new AcceptedUpdate("c", 1, 0, (ulong)examples.Length, payload, [], new Dictionary<string, double>(), DateTimeOffset.UnixEpoch)], []);
        strategy.Apply(new ModelVersionRecord(1, 1, next, DateTimeOffset.UnixEpoch));
        var delta = strategy.GetModelDelta(0);
        w0.CopyTo(model.Weights);
        SeedPerturbation.Replay(model, trainable, pool, [.. delta.SeedIndices.Select((s, i) => new SeedScalar((int)s, delta.ScalarDeltas[i]))], LearningRate);
        var server = model.Weights.ToArray();

        // The client's own definition of its round result: its scalars summed per seed (float64, step order), replayed.
        var sums = new SortedDictionary<int, double>();
        foreach (var step in local.Steps) sums[step.SeedIndex] = sums.GetValueOrDefault(step.SeedIndex) + 1.0 * step.Value;
        w0.CopyTo(model.Weights);
        SeedPerturbation.Replay(model, trainable, pool, [.. sums.Select(kv => new SeedScalar(kv.Key, (float)kv.Value))], LearningRate);
        var client = model.Weights.ToArray();

        // Assert
        Assert.Equal(local.Steps.Length, parameters.LocalSteps);
        Assert.True(server.AsSpan().SequenceEqual(client), "server replay and client replay differ");
        double moved = 0, drift = 0;
        for (int i = 0; i < w0.Length; i++)
        {
            moved = Math.Max(moved, Math.Abs(server[i] - w0[i]));
            drift = Math.Max(drift, Math.Abs(server[i] - trajectory[i]));
        }
        Assert.True(moved > 1e-4, $"the round did not move the model (max change {moved:G3})");
        Assert.True(drift < 1e-3 * moved, $"replay differs from the in-place trajectory by {drift:G3} (moved {moved:G3})");
    }

    [Fact]
    public void SaveArtifacts_AfterTwoRounds_WritesAModelFolderThatLoadsAsTheGlobalModel()
    {
        // Arrange
        string data = TinyTask.WriteJsonl();
        string outDir = Path.Combine(Path.GetTempPath(), $"fedkseed-artifacts-{Guid.NewGuid():N}");
        var simulation = new FedKSeedSimulation(new FedKSeedSimulationOptions
        {
            ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = 2, ClientsPerRound = 2, Rounds = 2,
            Seeds = 16, LocalSteps = 2, LearningRate = 1e-3f, Partition = "iid", EvalEvery = 2, EvalExamples = 2, GenerationExamples = 0, MaxLength = 48,
        });
        try
        {
            simulation.RunRound(1);
            simulation.RunRound(2);

            // Act
            var written = simulation.SaveArtifacts(outDir);
            using var reloaded = CausalLm.Load(written.Single());
            using var baseModel = CausalLm.Load(TinyTask.ModelDirectory);

            // Assert: the folder holds the replayed global weights (not the base), with the base's config and tokenizer.
            Assert.True(reloaded.Weights.SequenceEqual(simulation.GlobalModel.Weights));
            Assert.False(reloaded.Weights.SequenceEqual(baseModel.Weights));
            Assert.True(File.Exists(Path.Combine(written.Single(), "tokenizer.json")));
        }
        finally
        {
            File.Delete(data);
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Simulation_SameOptionsAtOneAndTwoThreads_GivesIdenticalMetricsAndModel()
    {
        // Arrange
        string data = TinyTask.WriteJsonl();
        var options = new FedKSeedSimulationOptions
        {
            ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = 4, ClientsPerRound = 2, Rounds = 2,
            Seeds = 64, LocalSteps = 4, LearningRate = 1e-3f, Partition = "iid", EvalEvery = 1, EvalExamples = 4, GenerationExamples = 0, MaxLength = 48,
        };
        try
        {
            // Act
            var (metricsA, weightsA) = Run(options, threads: 1);
            var (metricsB, weightsB) = Run(options, threads: 2);

            // Assert
            Assert.Equal(metricsA, metricsB);
            Assert.True(weightsA.AsSpan().SequenceEqual(weightsB), "global models differ between thread counts");
        }
        finally
        {
            File.Delete(data);
            Core.Kernels.EngineThreads.Count = Environment.ProcessorCount;
        }
    }

    [Fact]
    public void WireBytes_WorstCaseAtK4096Tau200_StayUnder18KB()
    {
        // Arrange: τ = 200 steps on seeds near the top of K, and a client so far behind that every seed changed.
        var update = new ClientUpdate { FormatVersion = 1, ClientId = "client-00000", RoundId = 1_000_000, ModelVersion = 999_999, SampleCount = 100_000, SeedScalars = new SeedScalars() };
        for (int t = 0; t < 200; t++) { update.SeedScalars.SeedIndices.Add((uint)(4095 - t)); update.SeedScalars.Scalars.Add(-123.456f); }
        var indices = Enumerable.Range(0, 4096).Select(i => (uint)i).ToArray();
        var deltas = Enumerable.Repeat(0.5f, 4096).ToArray();

        // Act
        var dense = SeedScalarDelta.Create(0, 4096, indices, deltas);
        var chunk = new ModelChunk { FormatVersion = 1, ModelVersion = 1_000_000, Kind = ModelPayloadKind.SeedDelta, Last = true, SeedDelta = dense };
        int total = update.CalculateSize() + chunk.CalculateSize();
        var roundTrip = SeedScalarDelta.Parser.ParseFrom(dense.ToByteArray()).Entries().ToArray();

        // Assert: 18 KB = 18,432 bytes; the task message (~150 B) fits in what is left.
        Assert.Equal(4096, dense.DenseDeltas.Count);
        Assert.True(total < 18_432 - 300, $"uplink {update.CalculateSize()} B + downlink {chunk.CalculateSize()} B = {total} B");
        Assert.Equal(indices.Select((s, i) => ((int)s, deltas[i])), roundTrip);
    }

    [Fact]
    public void SeedScalarDelta_FewChangedSeeds_UsesTheSparseForm()
    {
        var delta = SeedScalarDelta.Create(3, 4096, [5u, 17u, 4000u], [1f, -2f, 3f]);

        Assert.Empty(delta.DenseDeltas);
        Assert.Equal([(5, 1f), (17, -2f), (4000, 3f)], delta.Entries());
    }

    private static (RoundMetrics[] Metrics, float[] Weights) Run(FedKSeedSimulationOptions options, int threads)
    {
        Core.Kernels.EngineThreads.Count = threads;
        var simulation = new FedKSeedSimulation(options);
        var metrics = Enumerable.Range(1, options.Rounds)
            .Select(r => simulation.RunRound(r) with { WallSeconds = 0, ReplaySeconds = 0, ClientSeconds = 0 })
            .ToArray();
        return (metrics, simulation.GlobalModel.Weights.ToArray());
    }
}
