using Federated.Core.Models;

namespace Federated.Core.Optim;

/// <summary>AdamW hyper-parameters (PyTorch defaults except the learning rate).</summary>
public sealed record AdamWOptions
{
    public float LearningRate { get; init; } = 1e-3f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; } = 0.01f;

    public void Validate()
    {
        if (!(LearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"LearningRate must be ≥ 0, got {LearningRate}.");
        if (!(Beta1 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), $"Beta1 must be in [0, 1), got {Beta1}.");
        if (!(Beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), $"Beta2 must be in [0, 1), got {Beta2}.");
        if (!(Epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), $"Epsilon must be > 0, got {Epsilon}.");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"WeightDecay must be ≥ 0, got {WeightDecay}.");
    }
}

/// <summary>
/// AdamW as torch.optim.AdamW (decoupled weight decay, bias correction), over a list of parameter tensors:
///   w ← w·(1 − lr·λ);  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
///   w ← w − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
/// State m, v lives in two arenas laid out like the parameter list. Step allocates nothing.
/// </summary>
public sealed class AdamW
{
    private readonly IReadOnlyList<ParameterTensor> _parameters;
    private readonly float[] _m;
    private readonly float[] _v;

    public AdamW(IReadOnlyList<ParameterTensor> parameters, AdamWOptions options)
    {
        options.Validate();
        _parameters = parameters;
        Options = options;
        long total = parameters.Sum(p => (long)p.Length);
        _m = new float[total];
        _v = new float[total];
    }

    public AdamWOptions Options { get; set; }

    /// <summary>Steps taken so far (t in the bias correction).</summary>
    public int StepCount { get; private set; }

    /// <summary>First moments m, laid out like the concatenated parameter list (for checkpoints).</summary>
    public Span<float> FirstMoments => _m;

    /// <summary>Second moments v, same layout (for checkpoints).</summary>
    public Span<float> SecondMoments => _v;

    /// <summary>Restores the step count of a checkpoint (after copying the moments into <see cref="FirstMoments"/> and <see cref="SecondMoments"/>).</summary>
    public void RestoreStepCount(int stepCount) =>
        StepCount = stepCount >= 0 ? stepCount : throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "Step count must be ≥ 0.");

    /// <summary>One update from the parameters' current gradients.</summary>
    public void Step()
    {
        StepCount++;
        var o = Options;
        double bc1 = 1 - Math.Pow(o.Beta1, StepCount);
        double bc2 = 1 - Math.Pow(o.Beta2, StepCount);
        float stepSize = (float)(o.LearningRate / bc1);
        float sqrtBc2 = (float)Math.Sqrt(bc2);
        float decay = 1 - o.LearningRate * o.WeightDecay;
        float b1 = o.Beta1, b2 = o.Beta2, eps = o.Epsilon;
        int offset = 0;
        foreach (var p in _parameters)
        {
            var w = p.Data;
            var g = p.Grad;
            var m = _m.AsSpan(offset, p.Length);
            var v = _v.AsSpan(offset, p.Length);
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                float denom = MathF.Sqrt(v[i]) / sqrtBc2 + eps;
                w[i] = w[i] * decay - stepSize * m[i] / denom;
            }
            offset += p.Length;
        }
    }
}

/// <summary>Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Total norm ‖g‖ = √Σ g² over all tensors (float64 sum); when it exceeds maxNorm every gradient is scaled by
    /// maxNorm / (‖g‖ + 1e-6). Returns the norm before clipping.
    /// </summary>
    public static double ClipByGlobalNorm(IReadOnlyList<ParameterTensor> parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"maxNorm must be > 0, got {maxNorm}.");
        double sum = 0;
        foreach (var p in parameters)
            foreach (var g in p.Grad) sum += (double)g * g;
        double norm = Math.Sqrt(sum);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
            foreach (var p in parameters)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad, (float)coef, p.Grad);
        return norm;
    }
}
