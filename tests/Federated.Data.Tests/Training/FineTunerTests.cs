using Federated.Core.Models;
using Federated.Data.Pretraining;
using Federated.Data.Tests.Pretraining;
using Federated.Data.Training;

namespace Federated.Data.Tests.Training;

public sealed class FineTunerTests(TinyPretrainFixture fixture) : IClassFixture<TinyPretrainFixture>
{
    private TokenizedExample[] Train => new ExampleEncoder(fixture.Tokenizer, 64).EncodeAll(fixture.Examples.Take(16).ToArray());

    private CausalLm NewModel()
    {
        var model = new CausalLm(fixture.Config);
        Pretrainer.Initialize(model, 5);
        return model;
    }

    /// <summary>Mean response-only loss over the examples, each scored alone (no padding involved).</summary>
    private static double MeanLoss(CausalLm model, IReadOnlyList<TokenizedExample> examples)
    {
        model.KeepActivationsForBackward = false;
        double sum = 0;
        foreach (var e in examples) sum += model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
        return sum / examples.Count;
    }

    [Theory]
    [InlineData(FineTuneMode.Full, 1e-2)]
    [InlineData(FineTuneMode.Lora, 3e-2)]
    public void TrainStep_FortySteps_LowersTheTrainingLoss(FineTuneMode mode, double lr)
    {
        // Arrange: 16 examples, 40 steps of 4 = 10 epochs, so the model can fit them.
        var model = NewModel();
        var train = Train;
        double before = MeanLoss(model, train);
        var tuner = new FineTuner(model, train, new FineTuneOptions { Mode = mode, Steps = 40, BatchSize = 4, LearningRate = lr, WarmupSteps = 2, Seed = 3 });

        // Act
        for (int i = 0; i < 40; i++) tuner.TrainStep();
        double after = MeanLoss(model, train);

        // Assert
        Assert.Equal(40, tuner.Step);
        Assert.True(after < before - 0.3, $"{mode}: loss {before:F3} → {after:F3}");
    }

    [Fact]
    public void TrainStep_LoraMode_LeavesBaseWeightsUntouched()
    {
        // Arrange
        var model = NewModel();
        float[] baseWeights = model.Weights.ToArray();
        var tuner = new FineTuner(model, Train, new FineTuneOptions { Mode = FineTuneMode.Lora, Steps = 5, BatchSize = 2, LearningRate = 1e-2 });
        float[] adapterBefore = tuner.Adapter!.Weights.ToArray();

        // Act
        for (int i = 0; i < 5; i++) tuner.TrainStep();

        // Assert
        Assert.Equal(baseWeights, model.Weights.ToArray());
        Assert.NotEqual(adapterBefore, tuner.Adapter.Weights.ToArray());
    }

    [Fact]
    public void TrainStep_SameSeed_SameLossesAndWeights()
    {
        // Arrange
        var a = new FineTuner(NewModel(), Train, new FineTuneOptions { Steps = 6, BatchSize = 3, LearningRate = 1e-3, Seed = 9 });
        var b = new FineTuner(NewModel(), Train, new FineTuneOptions { Steps = 6, BatchSize = 3, LearningRate = 1e-3, Seed = 9 });

        // Act
        var lossesA = Enumerable.Range(0, 6).Select(_ => a.TrainStep()).ToArray();
        var lossesB = Enumerable.Range(0, 6).Select(_ => b.TrainStep()).ToArray();

        // Assert
        Assert.Equal(lossesA, lossesB);
    }

    [Theory]
    [InlineData(0, 4, 1e-3)]
    [InlineData(5, 0, 1e-3)]
    [InlineData(5, 4, 0.0)]
    public void Constructor_InvalidOptions_Throws(int steps, int batch, double lr)
    {
        Assert.ThrowsAny<ArgumentException>(() =>
            new FineTuner(NewModel(), Train, new FineTuneOptions { Steps = steps, BatchSize = batch, LearningRate = lr }));
    }
}
