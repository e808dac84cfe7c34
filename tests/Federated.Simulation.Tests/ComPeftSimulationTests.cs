using Federated.Client.ComPeft;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Server.Strategies;
using Federated.Simulation.ComPeft;

namespace Federated.Simulation.Tests;

public sealed class ComPeftSimulationTests
{
    private static ComPeftSimulationOptions Options(string data) => new()
    {
        ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = 2, ClientsPerRound = 2, Rounds = 2,
        Partition = "quantity:1.0", Seed = 5, LocalSteps = 3, BatchSize = 2, LearningRate = 1e-2f, LoraRank = 4, LoraAlpha = 8,
        EvalEvery = 1, EvalExamples = 4, GenerationExamples = 0, MaxLength = 64,
    };

    [Fact]
    public void RunRound_DenseMeanTwoClients_EqualsSampleWeightedMeanOfIndependentDeltas()
    {
        // Arrange: quantity skew gives the two clients different sample counts, so the weights matter.
        string data = TinyTask.WriteJsonl();
        var options = Options(data) with { Density = 1.0, Aggregation = ComPeftAggregation.Mean };
        var simulation = new ComPeftSimulation(options);
        var shards = simulation.Shards;
        Assert.NotEqual(shards[0].Length, shards[1].Length);

        // Each client's Δ recomputed independently: a fresh model and a fresh adapter from the same seed.
        var model = CausalLm.Load(TinyTask.ModelDirectory);
        var config = new LoraConfig { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"] };
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 2, LearningRate = 1e-2f });
        var deltas = new float[2][];
        for (int c = 0; c < 2; c++)
        {
            var adapter = LoraAdapter.Create(model, config, options.Seed);
            var shard = shards[c].Select(i => simulation.TrainExamples[i]).ToArray();
            deltas[c] = trainer.Train(adapter, LoraUpdateLayout.Create(adapter, true), shard, simulation.ClientStreamSeed(c, 1), 1).Delta;
        }
        var initial = LoraAdapter.Create(model, config, options.Seed);
        var layout = LoraUpdateLayout.Create(initial, true);
        var start = new float[layout.ElementCount];
        layout.Gather(initial, start);

        // Act
        simulation.RunRound(1);
        var after = new float[layout.ElementCount];
        layout.Gather(simulation.GlobalAdapter, after);

        // Assert: θ₁ − θ₀ = (n₀Δ₀ + n₁Δ₁)/(n₀ + n₁), in double.
        double n0 = shards[0].Length, n1 = shards[1].Length;
        for (int j = 0; j < after.Length; j++)
        {
            double expected = (n0 * deltas[0][j] + n1 * deltas[1][j]) / (n0 + n1);
            Assert.True(Math.Abs(after[j] - start[j] - expected) <= 1e-7 + 1e-5 * Math.Abs(expected),
                $"element {j}: got {after[j] - start[j]}, expected {expected}");
        }
        var aInitial = initial.Modules.Select(m => m.A.Data.ToArray()).ToArray();
        for (int m = 0; m < aInitial.Length; m++) Assert.Equal(aInitial[m], simulation.GlobalAdapter.Modules[m].A.Data.ToArray());
        File.Delete(data);
    }

    [Fact]
    public void Run_SameOptionsTwice_IdenticalMetricsAndAdapter()
    {
        // Arrange: ternary 25 % with error feedback and TIES, so every stateful path is exercised.
        string data = TinyTask.WriteJsonl();
        var options = Options(data) with { Density = 0.25, ErrorFeedback = true, Aggregation = ComPeftAggregation.Ties };

        // Act
        var (metricsA, adapterA) = RunAll(options);
        var (metricsB, adapterB) = RunAll(options);

        // Assert (wall times excluded)
        Assert.Equal(metricsA, metricsB);
        Assert.Equal(adapterA, adapterB);
        Assert.All(metricsA.OfType<RoundMetrics>(), m => Assert.True(m.BytesUpPerClient > 0));
        File.Delete(data);
    }

    [Fact]
    public void RunRound_CompressedUplink_IsSmallerThanFp32AndSavesLoadableAdapter()
    {
        // Arrange
        string data = TinyTask.WriteJsonl();
        var simulation = new ComPeftSimulation(Options(data) with { Density = 0.05, Rounds = 1 });
        string outDir = Path.Combine(Path.GetTempPath(), $"compeft-out-{Guid.NewGuid():N}");

        // Act
        var metrics = simulation.RunRound(1);
        var written = simulation.SaveArtifacts(outDir);

        // Assert
        Assert.True(metrics.BytesUpPerClient * 10 < simulation.Fp32UpdateBytes!.Value,
            $"uplink {metrics.BytesUpPerClient} B vs fp32 {simulation.Fp32UpdateBytes} B");
        var model = CausalLm.Load(TinyTask.ModelDirectory);
        var loaded = LoraAdapter.Load(model, written[0]);
        Assert.Equal(simulation.GlobalAdapter.Weights.ToArray(), loaded.Weights.ToArray());
        Directory.Delete(outDir, recursive: true);
        File.Delete(data);
    }

    private static (object[] Metrics, float[] Adapter) RunAll(ComPeftSimulationOptions options)
    {
        var simulation = new ComPeftSimulation(options);
        var metrics = new List<object> { simulation.Evaluate(generate: false) };
        for (int r = 1; r <= options.Rounds; r++)
            metrics.Add(simulation.RunRound(r) with { WallSeconds = 0, ReplaySeconds = 0, ClientSeconds = 0 });
        return ([.. metrics], simulation.GlobalAdapter.Weights.ToArray());
    }
}
