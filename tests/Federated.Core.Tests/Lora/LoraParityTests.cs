using Federated.Core.IO;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Lora;

/// <summary>LoRA forward and LoRA-only gradients against the PyTorch references (lora.* keys, see the fixtures README).</summary>
public sealed class LoraParityTests
{
    public static TheoryData<string> Models => new() { "tiny-llama", "tiny-gpt2" };

    [Theory]
    [MemberData(nameof(Models))]
    public void ForwardLoss_WithAdapter_LogitsAndLossMatchPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path(model, "lora-adapter"));
        lm.AttachAdapter(adapter);
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act
        float loss = lm.ForwardLoss(ids, 2, ids.Length / 2);

        // Assert
        TensorAssert.Close(reference.ReadFloat32("lora.batch.logits"), lm.Logits, 1e-4, 0, "lora.batch.logits");
        TensorAssert.Close(reference.ReadFloat32("lora.batch.loss"), [loss], 0, 1e-5, "lora.batch.loss");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Backward_WithAdapterBaseFrozen_LoraGradientsMatchPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path(model, "lora-adapter"));
        lm.AttachAdapter(adapter);
        lm.TrainBaseWeights = false;
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act
        lm.ForwardLoss(ids, 2, ids.Length / 2);
        lm.ZeroGrad();
        lm.Backward();

        // Assert
        foreach (var p in adapter.Parameters)
            TensorAssert.Close(reference.ReadFloat32("lora.grad." + p.Name), p.Grad, 1e-5, 1e-3, "lora.grad." + p.Name);
        Assert.Equal(reference.Tensors.Count(t => t.Name.StartsWith("lora.grad.", StringComparison.Ordinal)), adapter.Parameters.Count);
    }

    [Fact]
    public void Backward_FrozenA_OnlyBGradientsMatchPyTorch()
    {
        // Arrange: FFA-LoRA — A frozen, so dA is not computed (stays zero) while dB is unchanged.
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path("tiny-llama", "lora-adapter"));
        adapter.TrainA = false;
        lm.AttachAdapter(adapter);
        lm.TrainBaseWeights = false;
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act
        lm.ForwardLoss(ids, 2, 24);
        lm.ZeroGrad();
        lm.Backward();

        // Assert
        foreach (var m in adapter.Modules)
        {
            Assert.All(m.A.Grad.ToArray(), g => Assert.Equal(0f, g));
            TensorAssert.Close(reference.ReadFloat32("lora.grad." + m.B.Name), m.B.Grad, 1e-5, 1e-3, "lora.grad." + m.B.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MergeInto_Adapter_BaseModelReproducesAdapterLogits(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path(model, "lora-adapter"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act: merged weights W + s·BA (Conv1D: + s·(BA)ᵀ) without the adapter attached
        adapter.MergeInto(lm);
        lm.Forward(ids, 2, ids.Length / 2);

        // Assert
        TensorAssert.Close(reference.ReadFloat32("lora.batch.logits"), lm.Logits, 1e-4, 0, "merged lora.batch.logits");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void UnmergeFrom_AfterMerge_RestoresWeights(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path(model, "lora-adapter"));
        var before = lm.Weights.ToArray();

        // Act
        adapter.MergeInto(lm);
        bool changed = !before.AsSpan().SequenceEqual(lm.Weights);
        adapter.UnmergeFrom(lm);

        // Assert
        Assert.True(changed);
        TensorAssert.Close(before, lm.Weights, 1e-6, 0, "weights after merge + unmerge");
    }

    [Fact]
    public void Save_ThenLoad_RoundTripsConfigAndWeights()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-gpt2"));
        var adapter = LoraAdapter.Load(lm, Fixtures.Path("tiny-gpt2", "lora-adapter"));
        string dir = Path.Combine(Path.GetTempPath(), "lora-rt-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Act
            adapter.Save(dir);
            var loaded = LoraAdapter.Load(lm, dir);

            // Assert
            Assert.Equal(adapter.Config.Rank, loaded.Config.Rank);
            Assert.Equal(adapter.Config.Alpha, loaded.Config.Alpha);
            Assert.Equal(adapter.Config.FanInFanOut, loaded.Config.FanInFanOut);
            Assert.Equal(adapter.Config.TargetModules.Order(), loaded.Config.TargetModules.Order());
            Assert.Equal(adapter.Parameters.Select(p => p.Name), loaded.Parameters.Select(p => p.Name));
            Assert.True(adapter.Weights.SequenceEqual(loaded.Weights));
            using var file = SafeTensorsFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
            Assert.Equal("pt", file.Metadata["format"]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Create_FreshAdapter_LeavesLogitsUnchangedAndABounded()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var ids = reference.ReadInt32("prompt1.input_ids");
        var config = new LoraConfig { Rank = 2, Alpha = 16, TargetModules = ["q_proj", "v_proj"] };

        // Act
        var adapter = LoraAdapter.Create(lm, config, seed: 42);
        var again = LoraAdapter.Create(lm, config, seed: 42);
        lm.AttachAdapter(adapter);
        lm.Forward(ids, 1, ids.Length);

        // Assert: B = 0 so the output is the base model's; A ~ U(-1/sqrt(in), 1/sqrt(in)), reproducible from the seed.
        TensorAssert.Close(reference.ReadFloat32("prompt1.logits"), lm.Logits, 1e-4, 0, "fresh adapter logits");
        Assert.Equal(4, adapter.Modules.Count);
        Assert.All(adapter.Modules, m => Assert.All(m.A.Data.ToArray(), a => Assert.InRange(Math.Abs(a), 0, 1 / 8f)));
        Assert.All(adapter.Modules, m => Assert.All(m.B.Data.ToArray(), b => Assert.Equal(0f, b)));
        Assert.True(adapter.Weights.SequenceEqual(again.Weights));
        Assert.Equal(8f, config.Scaling);
        Assert.Equal(16f / MathF.Sqrt(2), (config with { UseRsLora = true }).Scaling, 5);
    }
}
