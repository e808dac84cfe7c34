namespace Federated.Compression.Ternary;

/// <summary>How the single magnitude of a ternary update (or of each tensor) is chosen.</summary>
public enum TernaryScaleMode
{
    /// <summary>ComPEFT: scale = α·σ(Δ), σ the unbiased (n−1) standard deviation of the whole, unpruned vector
    /// (or tensor). α defaults to the Gaussian MSE-optimal multiplier for the density (<see cref="TernaryOptions.DefaultAlpha"/>).</summary>
    SigmaMultiple = 0,

    /// <summary>STC / least squares: scale = ‖Δ_kept‖₁ / k, the L2-optimal scalar for the kept sign pattern.</summary>
    LeastSquares = 1,
}

/// <summary>
/// Options of <see cref="TernaryCodec.Encode(ReadOnlySpan{float}, TernaryOptions)"/>.
/// Δ is the flattened update; when <see cref="TensorLengths"/> is set, the caller concatenated its tensors in that order
/// (for LoRA adapters: PEFT state-dict keys sorted by name, each tensor flattened row-major) and one scale is kept per tensor.
/// The top-k selection is always global over the whole vector.
/// </summary>
public sealed record TernaryOptions
{
    /// <summary>Default options: density 5 %, ComPEFT α·σ scale with the per-density default α, one scale.</summary>
    public static TernaryOptions Default { get; } = new();

    /// <summary>Fraction d ∈ (0, 1] of entries kept: k = max(1, round(d·n)) (ties by lower index), never more than the
    /// number of non-zero entries.</summary>
    public double Density { get; init; } = 0.05;

    /// <summary>How the scale is chosen (default ComPEFT α·σ).</summary>
    public TernaryScaleMode ScaleMode { get; init; } = TernaryScaleMode.SigmaMultiple;

    /// <summary>α for <see cref="TernaryScaleMode.SigmaMultiple"/>; null means <see cref="DefaultAlpha"/>(Density).</summary>
    public double? Alpha { get; init; }

    /// <summary>Lengths of the concatenated tensors (sum = n) for one scale per tensor; null for one scale per update.</summary>
    public IReadOnlyList<int>? TensorLengths { get; init; }

    /// <summary>The α actually used: <see cref="Alpha"/> or the density default.</summary>
    public double EffectiveAlpha => Alpha ?? DefaultAlpha(Density);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(Density > 0 && Density <= 1))
            throw new ArgumentOutOfRangeException(nameof(Density), Density, "Density must be in (0, 1].");
        if (!Enum.IsDefined(ScaleMode))
            throw new ArgumentOutOfRangeException(nameof(ScaleMode), ScaleMode, "Unknown scale mode.");
        if (Alpha is { } a && !(a > 0 && double.IsFinite(a)))
            throw new ArgumentOutOfRangeException(nameof(Alpha), a, "Alpha must be a positive finite number.");
        if (TensorLengths is { } lengths)
        {
            if (lengths.Count == 0)
                throw new ArgumentOutOfRangeException(nameof(TensorLengths), "TensorLengths must name at least one tensor.");
            for (int i = 0; i < lengths.Count; i++)
                if (lengths[i] <= 0)
                    throw new ArgumentOutOfRangeException(nameof(TensorLengths), lengths[i], $"Tensor {i} has non-positive length.");
        }
    }

    /// <summary>
    /// α(d) = E[|x| : |x| ≥ t] / σ for x ~ N(0, σ²) and t the two-sided d-quantile, i.e. α = 2φ(z)/d with z = Φ⁻¹(1 − d/2).
    /// With this α, α·σ equals the least-squares (STC) scale for Gaussian updates. Values: 1 % → 2.89, 5 % → 2.34,
    /// 10 % → 2.06, 20 % → 1.75, 30 % → 1.55; d = 1 gives √(2/π) ≈ 0.80.
    /// </summary>
    public static double DefaultAlpha(double density)
    {
        if (!(density > 0 && density <= 1))
            throw new ArgumentOutOfRangeException(nameof(density), density, "Density must be in (0, 1].");
        double z = InverseNormalCdf(1 - density / 2);
        double phi = Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
        return 2 * phi / density;
    }

    /// <summary>Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9), then clamped for p → 1.</summary>
    internal static double InverseNormalCdf(double p)
    {
        if (p < 0.5) return p <= 0 ? double.NegativeInfinity : -InverseNormalCdf(1 - p);
        if (p >= 1) return double.PositiveInfinity;
        double q = 1 - p;
        if (q >= 0.02425)
        {
            double r0 = p - 0.5, r = r0 * r0;
            return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
                       + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * r0
                   / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                        + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
        }
        double s = Math.Sqrt(-2 * Math.Log(q));
        return -(((((-7.784894002430293e-03 * s - 3.223964580411365e-01) * s - 2.400758277161838e+00) * s
                   - 2.549732539343734e+00) * s + 4.374664141464968e+00) * s + 2.938163982698783e+00)
               / ((((7.784695709041462e-03 * s + 3.224671290700398e-01) * s + 2.445134137142996e+00) * s
                   + 3.754408661907416e+00) * s + 1);
    }
}
