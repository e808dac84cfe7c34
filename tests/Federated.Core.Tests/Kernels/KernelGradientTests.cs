using Federated.Core.Kernels;
using Federated.Core.Models;
using Federated.Core.Lora;

namespace Federated.Core.Tests.Kernels;

/// <summary>Every layer's Backward against central finite differences of its Forward (see <see cref="GradientCheck"/>).</summary>
public sealed class KernelGradientTests
{
    private readonly Random _rng = new(1234);

    [Fact]
    public void RmsNormBackward_RandomInput_MatchesFiniteDifferences()
    {
        // Arrange
        int rows = 3, dim = 7;
        var x = GradientCheck.Random(_rng, rows * dim);
        var w = GradientCheck.Random(_rng, dim);
        var r = GradientCheck.Random(_rng, rows * dim);
        double Loss()
        {
            var y = new float[rows * dim];
            RmsNorm.Forward(x, w, 1e-5f, y, new float[rows]);
            return GradientCheck.Dot(r, y);
        }

        // Act
        var y = new float[rows * dim];
        var inv = new float[rows];
        RmsNorm.Forward(x, w, 1e-5f, y, inv);
        var dx = new float[rows * dim];
        var dw = new float[dim];
        RmsNorm.Backward(x, w, inv, r, dx, dw, new float[2 * dim]);

        // Assert
        GradientCheck.Check(x, dx, Loss, "dX");
        GradientCheck.Check(w, dw, Loss, "dWeight");
    }

    [Fact]
    public void LayerNormBackward_RandomInput_MatchesFiniteDifferences()
    {
        // Arrange
        int rows = 3, dim = 6;
        var x = GradientCheck.Random(_rng, rows * dim);
        var w = GradientCheck.Random(_rng, dim);
        var b = GradientCheck.Random(_rng, dim);
        var r = GradientCheck.Random(_rng, rows * dim);
        double Loss()
        {
            var y = new float[rows * dim];
            LayerNorm.Forward(x, w, b, 1e-5f, y, new float[rows], new float[rows]);
            return GradientCheck.Dot(r, y);
        }

        // Act
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, w, b, 1e-5f, new float[rows * dim], mean, rstd);
        var dx = new float[rows * dim];
        var dw = new float[dim];
        var db = new float[dim];
        LayerNorm.Backward(x, w, mean, rstd, r, dx, dw, db, new float[2 * dim]);

        // Assert
        GradientCheck.Check(x, dx, Loss, "dX");
        GradientCheck.Check(w, dw, Loss, "dWeight");
        GradientCheck.Check(b, db, Loss, "dBias");
    }

    [Fact]
    public void RopeBackward_RandomInput_MatchesFiniteDifferences()
    {
        // Arrange
        int seqLen = 4, heads = 2, hd = 6, startPos = 3, maxPos = 16;
        var cos = new float[maxPos * hd / 2];
        var sin = new float[maxPos * hd / 2];
        Rope.BuildTables(hd, 10000, maxPos, cos, sin);
        var x = GradientCheck.Random(_rng, seqLen * heads * hd);
        var r = GradientCheck.Random(_rng, heads * seqLen * hd);
        double Loss()
        {
            var y = new float[heads * seqLen * hd];
            Rope.Forward(x, cos, sin, seqLen, heads, hd, startPos, 0, seqLen, y);
            return GradientCheck.Dot(r, y);
        }

        // Act
        var dx = new float[x.Length];
        Rope.Backward(r, cos, sin, seqLen, heads, hd, startPos, 0, seqLen, dx);

        // Assert
        GradientCheck.Check(x, dx, Loss, "dX");
    }

    [Fact]
    public void AttentionBackward_GroupedQueryHeads_MatchesFiniteDifferences()
    {
        // Arrange: 4 query heads over 2 kv heads, causal
        int heads = 4, kvHeads = 2, hd = 3, T = 5;
        var q = GradientCheck.Random(_rng, heads * T * hd);
        var k = GradientCheck.Random(_rng, kvHeads * T * hd);
        var v = GradientCheck.Random(_rng, kvHeads * T * hd);
        var r = GradientCheck.Random(_rng, heads * T * hd);
        double Loss()
        {
            var o = new float[heads * T * hd];
            Attention.Forward(q, k, v, heads, kvHeads, hd, T, T, T, 0, new float[heads * T * T], o);
            return GradientCheck.Dot(r, o);
        }

        // Act
        var probs = new float[heads * T * T];
        Attention.Forward(q, k, v, heads, kvHeads, hd, T, T, T, 0, probs, new float[heads * T * hd]);
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[v.Length];
        Attention.Backward(q, k, v, probs, r, heads, kvHeads, hd, T, T, T, dq, dk, dv, new float[T * T]);

        // Assert
        for (int t = 0; t < T; t++)
        for (int s = t + 1; s < T; s++)
            Assert.Equal(0f, probs[t * T + s]);
        GradientCheck.Check(q, dq, Loss, "dQ");
        GradientCheck.Check(k, dk, Loss, "dK");
        GradientCheck.Check(v, dv, Loss, "dV");
    }

    [Fact]
    public void SwiGluBackward_RandomInput_MatchesFiniteDifferences()
    {
        // Arrange
        var g = GradientCheck.Random(_rng, 11, 3);
        var u = GradientCheck.Random(_rng, 11, 3);
        var r = GradientCheck.Random(_rng, 11);
        double Loss()
        {
            var y = new float[11];
            SwiGlu.Forward(g, u, y);
            return GradientCheck.Dot(r, y);
        }

        // Act
        var dg = new float[11];
        var du = new float[11];
        SwiGlu.Backward(g, u, r, dg, du);

        // Assert
        GradientCheck.Check(g, dg, Loss, "dGate");
        GradientCheck.Check(u, du, Loss, "dUp");
    }

    [Fact]
    public void GeluNewBackward_RandomInput_MatchesFiniteDifferences()
    {
        // Arrange
        var x = GradientCheck.Random(_rng, 13, 4);
        var r = GradientCheck.Random(_rng, 13);
        double Loss()
        {
            var y = new float[13];
            GeluNew.Forward(x, y);
            return GradientCheck.Dot(r, y);
        }

        // Act
        var dx = new float[13];
        GeluNew.Backward(x, r, dx);

        // Assert
        GradientCheck.Check(x, dx, Loss, "dX");
    }

    [Fact]
    public void GeluNewForward_KnownPoints_MatchesFormula()
    {
        // Arrange: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) in float64, computed once with Python's math module
        float[] x = [0f, 1f, -1f, 2f];
        double[] expected = [0, 0.8411919906082768, -0.15880800939172324, 1.954597694087775];
        var y = new float[4];

        // Act
        GeluNew.Forward(x, y);

        // Assert
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], y[i], 6);
    }

    [Fact]
    public void SoftmaxCrossEntropyBackward_WithIgnoredRow_MatchesFiniteDifferences()
    {
        // Arrange
        int rows = 3, vocab = 5;
        var logits = GradientCheck.Random(_rng, rows * vocab, 3);
        int[] targets = [2, CausalLm.IgnoreIndex, 4];
        double Loss() => SoftmaxCrossEntropy.Forward(logits, targets, vocab, CausalLm.IgnoreIndex, new float[rows], new float[vocab]).Loss;

        // Act
        var (loss, count) = SoftmaxCrossEntropy.Forward(logits, targets, vocab, CausalLm.IgnoreIndex, new float[rows], new float[vocab]);
        var d = (float[])logits.Clone();
        SoftmaxCrossEntropy.BackwardInPlace(d, targets, vocab, CausalLm.IgnoreIndex, count, 1f);

        // Assert
        Assert.Equal(2, count);
        Assert.True(loss > 0);
        GradientCheck.Check(logits, d, Loss, "dLogits");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LinearBackward_WithLora_MatchesFiniteDifferences(bool conv1D)
    {
        // Arrange: y = x W(ᵀ) + b + ((x Aᵀ)·s) Bᵀ
        int rows = 3, inF = 4, outF = 5, r = 2;
        var weights = GradientCheck.Random(_rng, inF * outF + outF);
        var grads = new float[weights.Length];
        int[] wShape = conv1D ? [inF, outF] : [outF, inF];
        var w = new ParameterTensor("w", wShape, 0, weights, () => grads);
        var b = new ParameterTensor("b", [outF], inF * outF, weights, () => grads);
        var loraWeights = GradientCheck.Random(_rng, r * inF + outF * r);
        var loraGrads = new float[loraWeights.Length];
        var a = new ParameterTensor("A", [r, inF], 0, loraWeights, () => loraGrads);
        var bb = new ParameterTensor("B", [outF, r], r * inF, loraWeights, () => loraGrads);
        var lin = new Linear("m", inF, outF, conv1D, w, b) { Lora = new LoraModule("m", a, bb, 1.5f, conv1D), LoraU = 0 };
        var x = GradientCheck.Random(_rng, rows * inF);
        var dy = GradientCheck.Random(_rng, rows * outF);
        double Loss()
        {
            var y = new float[rows * outF];
            lin.Forward(x, y, rows, new float[rows * r]);
            return GradientCheck.Dot(dy, y);
        }

        // Act
        var acts = new float[rows * r];
        lin.Forward(x, new float[rows * outF], rows, acts);
        var dx = new float[rows * inF];
        lin.Backward(x, dy, dx, false, rows, true, acts, new float[rows * r]);

        // Assert
        GradientCheck.Check(x, dx, Loss, "dX");
        GradientCheck.Check(weights, grads, Loss, "dW,db");
        GradientCheck.Check(loraWeights, loraGrads, Loss, "dA,dB");
    }
}
