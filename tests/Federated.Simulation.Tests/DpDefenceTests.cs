using Federated.Client.ComPeft;
using Federated.Client.FedKSeed;
using Federated.Client.Privacy;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data.Training;

namespace Federated.Simulation.Tests;

/// <summary>
/// The client-side DP defences on the tiny-llama fixture. Expected values are recomputed independently from the
/// definitions (per-example gradients by hand, the clip formula, the noise stream), never read from the code under test.
/// </summary>
public sealed class DpDefenceTests
{
    private static readonly LoraConfig Config = new() { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"] };

    /// <summary>The gradient of B examples under DP-SGD by hand: Σ clip(∇L(xᵢ), C)/B (+ σC·z/B), in float64.</summary>
    private static double[] ExpectedDpGradient(CausalLm model, IReadOnlyList<ParameterTensor> trainable, TokenizedExample[] batch,
        double clip, double sigma, ulong noiseSeed, int step)
    {
        int n = trainable.Sum(p => p.Length);
        var sum = new double[n];
        foreach (var e in batch)
        {
            model.ZeroGrad();
            model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
            model.Backward();
            var g = trainable.SelectMany(p => p.Grad.ToArray()).Select(v => (double)v).ToArray();
            double norm = Math.Sqrt(g.Sum(v => v * v));
            double factor = Math.Min(1.0, clip / (norm + 1e-6));
            for (int i = 0; i < n; i++) sum[i] += factor * g[i];
        }
        if (sigma > 0)
            for (int i = 0; i < n; i++) sum[i] += sigma * clip * SeedNormal.At(noiseSeed, step, i);
        return [.. sum.Select(v => v / batch.Length)];
    }

    [Theory]
    [InlineData(0.05, 0.0)]   // every per-example gradient is clipped
    [InlineData(1e6, 0.0)]    // none is: the mean of per-example gradients
    [InlineData(0.05, 1.5)]   // clipped and noised
    public void DpSgdStep_TinyBatch_EqualsClippedSumPlusNoiseOverBatch(double clip, double sigma)
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var adapter = LoraAdapter.Create(model, Config, 3);
        adapter.Modules[0].B.Data.Fill(0.01f);   // B ≠ 0 so A's gradient is not trivially zero either
        adapter.TrainA = true;
        model.AttachAdapter(adapter);
        model.TrainBaseWeights = false;
        model.KeepActivationsForBackward = true;
        var trainable = adapter.Parameters.ToArray();
        var batch = examples[..3];
        const ulong noiseSeed = 1234;
        var expected = ExpectedDpGradient(model, trainable, batch, clip, sigma, noiseSeed, step: 2);

        // Act
        new DpSgdStep(trainable, clip, sigma, noiseSeed).Run(model, batch, step: 2);
        var actual = trainable.SelectMany(p => p.Grad.ToArray()).ToArray();

        // Assert
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale, $"element {i}: {actual[i]} vs {expected[i]}");
        if (sigma == 0)
        {
            double norm = Math.Sqrt(actual.Sum(v => (double)v * v));
            Assert.True(norm <= clip * (1 + 1e-5), $"‖g̃‖ = {norm} exceeds C = {clip}");
        }
    }

    [Fact]
    public void Train_DpOn_DrawsTheSameExamplesAsWithoutDp_AndReportsSamplingRate()
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var plain = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 2 });
        var dp = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 2, DpClipNorm = 0.5, DpNoiseMultiplier = 1 });

        // Act
        var a = LoraAdapter.Create(model, Config, 3);
        var plainResult = plain.Train(a, LoraUpdateLayout.Create(a, true), examples, 9, 1);
        var b = LoraAdapter.Create(model, Config, 3);
        var dpResult = dp.Train(b, LoraUpdateLayout.Create(b, true), examples, 9, 1);

        // Assert: the noise has its own stream, so the batches are the same; the deltas are not.
        Assert.Equal(6, plainResult.ExampleIndices.Length);
        Assert.All(plainResult.ExampleIndices, i => Assert.InRange(i, 0, examples.Length - 1));
        Assert.Equal(plainResult.ExampleIndices, dpResult.ExampleIndices);
        Assert.Equal(2.0 / examples.Length, dpResult.SamplingRate, 12);
        Assert.NotEqual(plainResult.Delta, dpResult.Delta);
    }

    [Fact]
    public void FedKSeedTrain_DpOneStep_RecordsClippedScalarPlusSeededNoise()
    {
        // Arrange: one step, so the DP and the plain run measure g at the same weights.
        var (model, examples) = TinyTask.LoadModelAndExamples();
        model.KeepActivationsForBackward = false;
        var w0 = model.Weights.ToArray();
        var trainable = TrainableSet.All(model.Parameters);
        var pool = SeedPool.Derive(7, 16);
        var plan = new FedKSeedRoundPlan(2, 1, 1e-3f, 1e-2f, []);
        var plainStep = new FedKSeedTrainer(model, trainable, pool).Train(plan, examples, 77).Steps[0];
        w0.CopyTo(model.Weights);
        double clip = Math.Abs(plainStep.Value) / 2, sigma = 0.7;

        // Act
        var dp = new FedKSeedTrainer(model, trainable, pool, new FedKSeedTrainerOptions { DpClipNorm = clip, DpNoiseMultiplier = sigma })
            .Train(plan, examples, 77);

        // Assert: g̃ = sign(g)·C + σ·C·ζ with ζ = z(noise seed of (stream 77, round 2), step 0, element 0).
        double zeta = SeedNormal.At(SplitMixDerived(77, 2), 0, 0);
        double expected = Math.Sign(plainStep.Value) * clip + sigma * clip * zeta;
        Assert.Equal(plainStep.SeedIndex, dp.Steps[0].SeedIndex);
        Assert.Equal(expected, dp.Steps[0].Value, 5);
        Assert.Equal(1.0 / examples.Length, dp.SamplingRate, 12);
        Assert.Single(dp.ExampleIndices);
    }

    [Fact]
    public void FedKSeedTrain_DpClipOnly_EveryScalarWithinClip()
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        model.KeepActivationsForBackward = false;
        var trainable = TrainableSet.All(model.Parameters);
        var pool = SeedPool.Derive(7, 16);

        // Act
        var result = new FedKSeedTrainer(model, trainable, pool, new FedKSeedTrainerOptions { DpClipNorm = 1e-3 })
            .Train(new FedKSeedRoundPlan(1, 8, 1e-3f, 1e-2f, []), examples, 5);

        // Assert
        Assert.Equal(8, result.Steps.Length);
        Assert.All(result.Steps, s => Assert.InRange(Math.Abs(s.Value), 0, 1e-3 * (1 + 1e-6)));
    }

    [Theory]
    [InlineData(-1.0, 0.0, "DpClipNorm")]
    [InlineData(double.NaN, 0.0, "DpClipNorm")]
    [InlineData(1.0, -0.5, "DpNoiseMultiplier")]
    [InlineData(0.0, 1.0, "DpNoiseMultiplier")]   // noise without a clip
    public void Options_InvalidDp_ThrowNamingTheOption(double clip, double sigma, string name)
    {
        var lora = Assert.Throws<ArgumentOutOfRangeException>(() => new LoraTrainerOptions { DpClipNorm = clip, DpNoiseMultiplier = sigma }.Validate());
        var zo = Assert.Throws<ArgumentOutOfRangeException>(() => new FedKSeedTrainerOptions { DpClipNorm = clip, DpNoiseMultiplier = sigma }.Validate());
        Assert.Equal(name, lora.ParamName);
        Assert.Equal(name, zo.ParamName);
    }

    [Fact]
    public void Options_Default_DpOff()
    {
        Assert.False(new LoraTrainerOptions().DpEnabled);
        Assert.False(new FedKSeedTrainerOptions().DpEnabled);
        new LoraTrainerOptions { DpClipNorm = 1, DpNoiseMultiplier = 1.1 }.Validate();
    }

    /// <summary>The documented noise seed: SplitMix64.Derive(stream ⊕ "DPNOISE1", round), recomputed from the SplitMix64 definition.</summary>
    private static ulong SplitMixDerived(ulong stream, long round)
    {
        ulong state = (stream ^ 0x4450_4E4F_4953_4531UL) ^ ((ulong)round * 0xD1B54A32D192ED03UL);
        ulong z = state + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
