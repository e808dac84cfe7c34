using Federated.Core.Models;
using Federated.Core.Optim;

namespace Federated.Core.Tests.Optim;

public sealed class AdamWTests
{
    private static (ParameterTensor P, float[] W, float[] G) Tensor(float[] w, float[] g) =>
        (new ParameterTensor("p", [w.Length], 0, w, () => g), w, g);

    [Fact]
    public void Step_FirstStep_MatchesHandWorkedValues()
    {
        // Arrange: w = [1, -2], g = [0.5, 0.1], lr 0.1, λ 0.01.
        // By hand: decay w·(1 − 0.001) = [0.999, −1.998]; m = [0.05, 0.01], v = [2.5e-4, 1e-5];
        // m̂ = m/0.1 = [0.5, 0.1], √v̂ = √(v/0.001) = [0.5, 0.1]; update = 0.1·m̂/(√v̂ + 1e-8) ≈ [0.1, 0.1] (less 2e-9, 1e-8).
        // So w = [0.899, −2.098] to 1e-7.
        var (p, w, _) = Tensor([1f, -2f], [0.5f, 0.1f]);
        var opt = new AdamW([p], new AdamWOptions { LearningRate = 0.1f, WeightDecay = 0.01f });

        // Act
        opt.Step();

        // Assert
        Assert.Equal(0.899, w[0], 6);
        Assert.Equal(-2.098, w[1], 6);
    }

    [Fact]
    public void Step_SecondStepConstantGradient_MatchesHandWorkedValues()
    {
        // Arrange: no decay, g = 1 twice. Step 1: m̂ = 1, v̂ = 1 → w = 1 − lr. Step 2: m = 0.19, v = 0.001999;
        // m̂ = 0.19/0.19 = 1, v̂ = 0.001999/0.001999 = 1 → w = 1 − 2·lr.
        var (p, w, _) = Tensor([1f], [1f]);
        var opt = new AdamW([p], new AdamWOptions { LearningRate = 0.01f, WeightDecay = 0 });

        // Act
        opt.Step();
        opt.Step();

        // Assert
        Assert.Equal(0.98, w[0], 6);
        Assert.Equal(2, opt.StepCount);
    }

    [Fact]
    public void ClipByGlobalNorm_NormAboveMax_ScalesToMax()
    {
        // Arrange: gradients [3, 4] and [12] → norm 13
        var (a, _, ga) = Tensor([0f, 0f], [3f, 4f]);
        var (b, _, gb) = Tensor([0f], [12f]);

        // Act
        double norm = GradientClipping.ClipByGlobalNorm([a, b], 6.5);

        // Assert
        Assert.Equal(13, norm, 9);
        Assert.Equal(1.5, ga[0], 5);
        Assert.Equal(2.0, ga[1], 5);
        Assert.Equal(6.0, gb[0], 5);
    }

    [Fact]
    public void ClipByGlobalNorm_NormBelowMax_LeavesGradients()
    {
        var (a, _, ga) = Tensor([0f, 0f], [3f, 4f]);
        double norm = GradientClipping.ClipByGlobalNorm([a], 10);
        Assert.Equal(5, norm, 9);
        Assert.Equal([3f, 4f], ga);
    }

    [Fact]
    public void Options_NegativeLearningRate_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptions { LearningRate = -1 }.Validate());
        Assert.Equal("LearningRate", e.ParamName);
    }
}
