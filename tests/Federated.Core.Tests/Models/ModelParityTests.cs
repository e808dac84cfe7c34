using Federated.Core.Generation;
using Federated.Core.IO;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Models;

/// <summary>
/// Parity with the PyTorch references in tests/data/fixtures/*/reference.safetensors (made by the fixture generator,
/// an op-for-op float32 implementation of transformers' eager LLaMA / GPT-2; see the fixtures README).
/// </summary>
public sealed class ModelParityTests
{
    public static TheoryData<string> Models => new() { "tiny-llama", "tiny-gpt2" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_Prompts_LogitsMatchPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        for (int i = 0; i < 3; i++)
        {
            var ids = reference.ReadInt32($"prompt{i}.input_ids");

            // Act
            lm.Forward(ids, 1, ids.Length);

            // Assert
            TensorAssert.Close(reference.ReadFloat32($"prompt{i}.logits"), lm.Logits, 1e-4, 0, $"{model} prompt{i}.logits");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ForwardLoss_Batch_LossMatchesPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act
        float loss = lm.ForwardLoss(ids, 2, ids.Length / 2);

        // Assert
        TensorAssert.Close(reference.ReadFloat32("batch.loss"), [loss], 0, 1e-5, $"{model} batch.loss");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ForwardLoss_ResponseMask_EqualsCrossEntropyOfReferenceLogitsOverMaskedTokens(string model)
    {
        // Arrange: score only target tokens 10..T-1 of prompt0; the expected value is computed here in float64 from
        // PyTorch's prompt0.logits (log-sum-exp minus the target logit, averaged over the scored positions).
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("prompt0.input_ids");
        var logits = reference.ReadFloat32("prompt0.logits");
        int T = ids.Length, V = lm.Config.VocabSize;
        var mask = new bool[T];
        for (int t = 10; t < T; t++) mask[t] = true;
        double sum = 0;
        for (int t = 9; t < T - 1; t++)
        {
            var row = logits.AsSpan(t * V, V);
            double max = double.NegativeInfinity, z = 0;
            foreach (var x in row) max = Math.Max(max, x);
            foreach (var x in row) z += Math.Exp(x - max);
            sum += max + Math.Log(z) - row[ids[t + 1]];
        }
        float expected = (float)(sum / (T - 10));

        // Act
        float loss = lm.ForwardLoss(ids, 1, T, mask);

        // Assert
        TensorAssert.Close([expected], [loss], 0, 1e-5, "masked loss");
        var perToken = lm.TokenLosses;
        Assert.Equal(0f, perToken[8]);
        Assert.Equal(0f, perToken[T - 1]);
        double mean = 0;
        foreach (var x in perToken) mean += x;
        Assert.Equal(loss, mean / (T - 10), 5);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Backward_Batch_EveryGradientMatchesPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");

        // Act
        lm.ForwardLoss(ids, 2, ids.Length / 2);
        lm.ZeroGrad();
        lm.Backward();

        // Assert: every tensor of model.safetensors has a grad.* reference (tied embedding: both uses summed).
        int checkedCount = 0;
        foreach (var p in lm.Parameters)
        {
            TensorAssert.Close(reference.ReadFloat32("grad." + p.Name), p.Grad, 1e-5, 1e-3, "grad." + p.Name);
            checkedCount++;
        }
        Assert.Equal(reference.Tensors.Count(t => t.Name.StartsWith("grad.", StringComparison.Ordinal)), checkedCount);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ForwardLoss_ZerothOrderPerturbation_LossesMatchPyTorch(string model)
    {
        // Arrange: w ± eps·z computed in float32 as fl(w + fl(eps·z)), z shipped in the reference.
        using var lm = CausalLm.Load(Fixtures.Path(model));
        lm.KeepActivationsForBackward = false; // a ZO step needs inference memory only
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        float eps = reference.ReadFloat32("zo.eps")[0];
        var original = lm.Weights.ToArray();

        float LossAt(float sign)
        {
            foreach (var p in lm.Parameters)
            {
                var z = reference.ReadFloat32("zo.z." + p.Name);
                var w = p.Data;
                for (int i = 0; i < w.Length; i++) w[i] += sign * eps * z[i];
            }
            float loss = lm.ForwardLoss(ids, 2, ids.Length / 2);
            original.CopyTo(lm.Weights);
            return loss;
        }

        // Act
        float plus = LossAt(+1), minus = LossAt(-1);

        // Assert
        TensorAssert.Close(reference.ReadFloat32("zo.loss_plus"), [plus], 0, 1e-5, "zo.loss_plus");
        TensorAssert.Close(reference.ReadFloat32("zo.loss_minus"), [minus], 0, 1e-5, "zo.loss_minus");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Backward_OneVersusFourThreads_BitIdentical(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        (float Loss, float[] Grads) Run(int threads)
        {
            lm.Threads = threads;
            lm.ZeroGrad();
            float loss = lm.ForwardLoss(ids, 2, 24);
            lm.Backward();
            return (loss, lm.Gradients.ToArray());
        }

        // Act
        var one = Run(1);
        var four = Run(4);

        // Assert
        Assert.Equal(one.Loss, four.Loss);
        Assert.True(one.Grads.AsSpan().SequenceEqual(four.Grads));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_InferenceLayout_SameLogitsAndBackwardRefused(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        lm.ForwardLoss(ids, 2, 24);
        var retained = lm.Logits.ToArray();

        // Act: shared slots; attention items in 1 and in 3 uneven chunks (8 items) with per-chunk probability scratch
        lm.KeepActivationsForBackward = false;
        lm.Threads = 1;
        lm.ForwardLoss(ids, 2, 24);
        var single = lm.Logits.ToArray();
        lm.Threads = 3;
        lm.ForwardLoss(ids, 2, 24);

        // Assert
        Assert.Equal(retained, single);
        Assert.Equal(retained, lm.Logits.ToArray());
        var e = Assert.Throws<InvalidOperationException>(lm.Backward);
        Assert.Contains("KeepActivationsForBackward", e.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Generate_GreedyPrompt0_IdsEqualPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var prompt = reference.ReadInt32("prompt0.input_ids");

        // Act
        var ids = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16 });

        // Assert
        Assert.Equal(reference.ReadInt32("generate.prompt0.ids"), ids);
    }

    [Theory]
    [InlineData("bf16")]
    [InlineData("f16-sharded")]
    public void Load_RoundedWeights_LogitsAndGreedyIdsMatchPyTorch(string variant)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama", variant));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        string key = variant.StartsWith("bf16", StringComparison.Ordinal) ? "bf16" : "f16";
        var prompt = reference.ReadInt32("prompt0.input_ids");

        // Act
        lm.Forward(prompt, 1, prompt.Length);
        var logits = lm.Logits.ToArray();
        var ids = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16 });

        // Assert
        TensorAssert.Close(reference.ReadFloat32($"{key}.prompt0.logits"), logits, 1e-4, 0, $"{key}.prompt0.logits");
        Assert.Equal(reference.ReadInt32($"{key}.generate.prompt0.ids"), ids);
    }
}
