using Federated.Client.Privacy;
using Federated.Core.Models;
using Federated.Core.Optim;
using Federated.Data.Training;

namespace Federated.Client.ComPeft;

/// <summary>
/// The gradient of one DP-SGD step (Abadi et al. 2016, arXiv 1607.00133) over the trainable adapter tensors:
///
///     gᵢ = ∇θ L(xᵢ)                        one forward/backward per example (batch of 1), i = 1..B
///     ḡᵢ = gᵢ · min(1, C / (‖gᵢ‖₂ + 1e-6))  per-example clip (Opacus' factor; ‖·‖ over all trainable tensors)
///     g̃  = (Σᵢ ḡᵢ + σ·C·z) / B             z ~ N(0, I) from <see cref="DpNoise"/>(seed, step)
///
/// g̃ is written into the trainable tensors' gradients for the optimizer. Per-example gradients come from running the
/// batch's examples one at a time, so a step costs B single-sequence passes instead of one batched pass (same FLOPs,
/// less parallel work per pass). Memory: two trainable-sized float32 buffers (the sum and the noise).
/// </summary>
internal sealed class DpSgdStep
{
    private readonly IReadOnlyList<ParameterTensor> _trainable;
    private readonly double _clipNorm;
    private readonly double _noiseMultiplier;
    private readonly ulong _noiseSeed;
    private readonly float[] _sum;
    private readonly float[] _noise;

    public DpSgdStep(IReadOnlyList<ParameterTensor> trainable, double clipNorm, double noiseMultiplier, ulong noiseSeed)
    {
        _trainable = trainable;
        _clipNorm = clipNorm;
        _noiseMultiplier = noiseMultiplier;
        _noiseSeed = noiseSeed;
        int n = trainable.Sum(p => p.Length);
        _sum = new float[n];
        _noise = noiseMultiplier > 0 ? new float[n] : [];
    }

    /// <summary>Computes g̃ for <paramref name="batch"/> into the trainable gradients; returns the mean of the examples'
    /// losses (or the first non-finite loss, leaving the gradients undefined).</summary>
    public float Run(CausalLm model, ReadOnlySpan<TokenizedExample> batch, int step)
    {
        Array.Clear(_sum);
        double lossSum = 0;
        foreach (var example in batch)
        {
            model.ZeroGrad();
            float loss = model.ForwardLoss(example.Ids, 1, example.Ids.Length, example.LossMask);
            if (!float.IsFinite(loss)) return loss;
            model.Backward();
            GradientClipping.ClipByGlobalNorm(_trainable, _clipNorm);
            int offset = 0;
            foreach (var p in _trainable)
            {
                var slice = _sum.AsSpan(offset, p.Length);
                System.Numerics.Tensors.TensorPrimitives.Add(slice, p.Grad, slice);
                offset += p.Length;
            }
            lossSum += loss;
        }
        if (_noiseMultiplier > 0)
        {
            DpNoise.Fill(_noiseSeed, step, _noise);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_noise, (float)(_noiseMultiplier * _clipNorm), _sum, _sum);
        }
        float inverseBatch = 1f / batch.Length;
        int at = 0;
        foreach (var p in _trainable)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(_sum.AsSpan(at, p.Length), inverseBatch, p.Grad);
            at += p.Length;
        }
        return (float)(lossSum / batch.Length);
    }
}
