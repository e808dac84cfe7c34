using Federated.Core.IO;
using Federated.Core.Models;
using Federated.Core.ZerothOrder;
using Federated.TestKit;

namespace Federated.Core.Tests.ZerothOrder;

/// <summary>
/// The SPSA estimate g = (L(w + εz) − L(w − εz)) / 2ε against the directional derivative z·∇L from backprop (itself
/// checked against PyTorch in ModelParityTests). If they agree, a ZO step moves the weights along the right direction,
/// and what limits ZO progress is the dimension (E[g²] = ‖∇L‖², while the step's curvature cost grows with zᵀHz ≈ tr H).
/// </summary>
public sealed class ZerothOrderStepTests
{
    [Theory]
    [InlineData(null, 11UL)]
    [InlineData(null, 12345UL)]
    [InlineData("norm", 11UL)]
    [InlineData("self_attn", 7UL)]
    public void Estimate_TinyLlama_EqualsBackpropDirectionalDerivative(string? pattern, ulong seed)
    {
        // Arrange: ∇L by backprop, and z(seed) read back by perturbing all-zero weights with scale 1 (w = 0 + 1·z).
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        lm.Threads = 1;
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        var trainable = TrainableSet.Create(lm.Parameters, pattern);
        float[] weights = lm.Weights.ToArray();
        lm.ForwardLoss(ids, 2, 24);
        lm.ZeroGrad();
        lm.Backward();
        float[] gradient = lm.Gradients.ToArray();
        lm.Weights.Clear();
        SeedPerturbation.Apply(lm, trainable, seed, 1f);
        float[] z = lm.Weights.ToArray();
        weights.CopyTo(lm.Weights);
        double directional = 0;
        for (int i = 0; i < z.Length; i++) directional += (double)z[i] * gradient[i];

        // Act
        var result = ZerothOrderStep.Estimate(lm, trainable, seed, 1e-3f, ids, 2, 24);

        // Assert: central differences in float32 (loss ≈ 7, rounding ≈ 1e-6 / 2ε ≈ 5e-4) plus O(ε²) curvature.
        Assert.True(Math.Abs(directional) > 0.05, $"degenerate direction: z·∇L = {directional}");
        Assert.True(Math.Abs(result.ProjectedGradient - directional) <= 0.02 * Math.Abs(directional) + 2e-3,
            $"g = {result.ProjectedGradient}, z·∇L = {directional}");
    }
}
