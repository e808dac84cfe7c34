using Federated.Client.ComPeft;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Data.Training;

namespace Federated.Simulation.Tests;

public sealed class LoraTrainerTests
{
    private static readonly LoraConfig Config = new() { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"] };

    private static double BatchLoss(CausalLm model, IReadOnlyList<TokenizedExample> batch)
    {
        // Mean over examples of each example's response-only loss (independent of the trainer's packing).
        model.KeepActivationsForBackward = false;
        double sum = 0;
        foreach (var e in batch) sum += model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
        return sum / batch.Count;
    }

    [Fact]
    public void Train_FixedTinyBatch_ReducesLoss()
    {
        // Arrange: one client whose shard is 2 examples, batch 2, so every step sees the same examples.
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var shard = examples[..2];
        var adapter = LoraAdapter.Create(model, Config, 7);
        var layout = LoraUpdateLayout.Create(adapter, freezeA: true);
        model.AttachAdapter(adapter);
        double before = BatchLoss(model, shard);
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 30, BatchSize = 2, LearningRate = 1e-2f });

        // Act
        var result = trainer.Train(adapter, layout, shard, 1, 1);
        double after = BatchLoss(model, shard);

        // Assert
        Assert.True(after < before - 0.1, $"loss {before:F4} → {after:F4} did not drop by 0.1");
        Assert.True(double.IsFinite(result.MeanLoss));
        Assert.Equal(30, result.Steps);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Train_Delta_IsAdapterAfterMinusAdapterAtStart(bool freezeA)
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var adapter = LoraAdapter.Create(model, Config, 7);
        var layout = LoraUpdateLayout.Create(adapter, freezeA);
        var startByName = adapter.Parameters.ToDictionary(p => p.Name, p => p.Data.ToArray());
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 3, LearningRate = 1e-2f, FreezeA = freezeA });

        // Act
        var result = trainer.Train(adapter, layout, examples, 5, 2);

        // Assert: Δ walks the trainable tensors in ordinal key order, each the after − before difference.
        var expectedNames = adapter.Parameters.Select(p => p.Name)
            .Where(n => !freezeA || n.EndsWith(".lora_B.weight", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedNames, layout.Names);
        Assert.Equal(adapter.Parameters.Where(p => expectedNames.Contains(p.Name)).Sum(p => p.Length), result.Delta.Length);
        int offset = 0;
        foreach (var name in expectedNames)
        {
            var p = adapter.Parameters.Single(q => q.Name == name);
            var after = p.Data.ToArray();
            for (int i = 0; i < after.Length; i++)
                Assert.Equal(after[i] - startByName[name][i], result.Delta[offset + i]);
            offset += after.Length;
        }
        Assert.Contains(result.Delta, v => v != 0);
    }

    [Fact]
    public void Train_Ffa_KeepsABitIdenticalAndTrainsB()
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var adapter = LoraAdapter.Create(model, Config, 11);
        var aBefore = adapter.Modules.Select(m => m.A.Data.ToArray()).ToArray();
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 4, BatchSize = 2, LearningRate = 1e-2f });

        // Act
        trainer.Train(adapter, LoraUpdateLayout.Create(adapter, freezeA: true), examples, 3, 1);

        // Assert
        for (int m = 0; m < adapter.Modules.Count; m++)
        {
            Assert.Equal(aBefore[m], adapter.Modules[m].A.Data.ToArray());
            Assert.Contains(adapter.Modules[m].B.Data.ToArray(), v => v != 0);
            Assert.All(adapter.Modules[m].A.Grad.ToArray(), g => Assert.Equal(0f, g));
        }
    }

    [Fact]
    public void Train_PlainLora_ChangesA()
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var adapter = LoraAdapter.Create(model, Config, 11);
        var aBefore = adapter.Modules[0].A.Data.ToArray();
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 2, LearningRate = 1e-2f, FreezeA = false });

        // Act (the first step only moves B since B starts at 0 and dA ∝ B; later steps move A)
        trainer.Train(adapter, LoraUpdateLayout.Create(adapter, freezeA: false), examples, 3, 1);

        // Assert
        Assert.NotEqual(aBefore, adapter.Modules[0].A.Data.ToArray());
    }

    [Fact]
    public void Train_BaseWeights_AreNeverModified()
    {
        // Arrange
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var baseBefore = model.Weights.ToArray();
        var adapter = LoraAdapter.Create(model, Config, 1);
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { LocalSteps = 3, BatchSize = 2, FreezeA = false });

        // Act
        trainer.Train(adapter, LoraUpdateLayout.Create(adapter, freezeA: false), examples, 1, 1);

        // Assert
        Assert.Equal(baseBefore, model.Weights.ToArray());
    }

    [Fact]
    public void Train_LayoutFreezeMismatch_Throws()
    {
        var (model, examples) = TinyTask.LoadModelAndExamples();
        var adapter = LoraAdapter.Create(model, Config, 1);
        var trainer = new LoraTrainer(model, new LoraTrainerOptions { FreezeA = true });
        Assert.Throws<ArgumentException>(() => trainer.Train(adapter, LoraUpdateLayout.Create(adapter, freezeA: false), examples, 1, 1));
    }
}
