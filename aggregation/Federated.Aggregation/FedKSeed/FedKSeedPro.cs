using Federated.Core.Seeds;

namespace Federated.Aggregation.FedKSeed;

/// <summary>
/// FedKSeed-Pro seed probabilities, as in the reference code (FedKSeed branch of
/// github.com/alibaba/FederatedScope, server.py):
/// ψₛ = mean(|clip(histₛ, −c, c)|) with histₛ starting as [initial], ψ̃ = (ψ − min ψ)/(max ψ − min ψ + 1e−10),
/// p = softmax(ψ̃). The history is kept as a running sum of |clip(g)| and a count per seed (O(K) memory), not as lists.
/// Every raw, unweighted scalar from every client counts once. Since ψ̃ ∈ [0, 1], p_max/p_min ≤ e.
/// Seed sampling is not part of the bit-exact seed protocol (clients report which indices they used).
/// </summary>
public sealed class FedKSeedPro
{
    /// <summary>Added to the min-max denominator, as in the reference.</summary>
    public const double NormaliseEpsilon = 1e-10;

    private readonly double[] _sumAbs;
    private readonly long[] _count;

    /// <summary>Pro state for <paramref name="seedCount"/> seeds; <paramref name="clip"/> = c (reference 1000), <paramref name="initial"/> = the first history entry (reference 0).</summary>
    public FedKSeedPro(int seedCount, double clip = 1000, double initial = 0)
    {
        if (seedCount < 1 || seedCount > SeedPool.MaxCount)
            throw new ArgumentOutOfRangeException(nameof(seedCount), seedCount, $"Seed count K must be in [1, {SeedPool.MaxCount}].");
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "Clip c must be positive.");
        if (!double.IsFinite(initial)) throw new ArgumentOutOfRangeException(nameof(initial), initial, "Initial entry must be finite.");
        Clip = clip;
        _sumAbs = new double[seedCount];
        _count = new long[seedCount];
        Array.Fill(_sumAbs, Math.Min(Math.Abs(initial), clip));
        Array.Fill(_count, 1);
    }

    /// <summary>c: scalars are clipped to [−c, c] before their magnitude is averaged.</summary>
    public double Clip { get; }

    /// <summary>K.</summary>
    public int SeedCount => _sumAbs.Length;

    /// <summary>Records one scalar g for a seed (raw, unweighted).</summary>
    public void Observe(int seedIndex, float g)
    {
        if ((uint)seedIndex >= (uint)_sumAbs.Length)
            throw new ArgumentOutOfRangeException(nameof(seedIndex), seedIndex, $"Seed index must be in [0, {_sumAbs.Length}).");
        if (!float.IsFinite(g)) throw new ArgumentOutOfRangeException(nameof(g), g, "Scalar must be finite.");
        _sumAbs[seedIndex] += Math.Min(Math.Abs((double)g), Clip);
        _count[seedIndex]++;
    }

    /// <summary>Records every step of one client's round.</summary>
    public void Observe(IReadOnlyList<SeedScalar> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        foreach (var step in steps) Observe(step.SeedIndex, step.Value);
    }

    /// <summary>ψₛ = running mean of |clip(g)| (the initial entry included).</summary>
    public void Importance(Span<double> psi)
    {
        CheckLength(psi.Length, nameof(psi));
        for (int s = 0; s < psi.Length; s++) psi[s] = _sumAbs[s] / _count[s];
    }

    /// <summary>The sampling distribution of the next round: <see cref="Probabilities(ReadOnlySpan{double}, Span{double})"/> of ψ.</summary>
    public void Probabilities(Span<double> probabilities)
    {
        CheckLength(probabilities.Length, nameof(probabilities));
        Importance(probabilities);
        Probabilities(probabilities, probabilities);
    }

    /// <summary>p = softmax((ψ − min ψ)/(max ψ − min ψ + 1e−10)); <paramref name="psi"/> and <paramref name="probabilities"/> may alias.</summary>
    public static void Probabilities(ReadOnlySpan<double> psi, Span<double> probabilities)
    {
        if (psi.Length == 0 || probabilities.Length != psi.Length)
            throw new ArgumentException($"Need equal non-empty lengths, got ψ {psi.Length} and p {probabilities.Length}.", nameof(probabilities));
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in psi)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("ψ must be finite.", nameof(psi));
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        double range = max - min + NormaliseEpsilon;
        // ψ̃ ≤ 1, so exp(ψ̃ − 1) ∈ (e⁻¹, 1]: no overflow, and the shift cancels in the normalisation.
        double sum = 0;
        for (int s = 0; s < psi.Length; s++)
        {
            double e = Math.Exp((psi[s] - min) / range - 1);
            probabilities[s] = e;
            sum += e;
        }
        for (int s = 0; s < probabilities.Length; s++) probabilities[s] /= sum;
    }

    /// <summary>Inverse-CDF draw: the first s with Σ_{j≤s} pⱼ &gt; u·Σp, for u ∈ [0, 1). O(K); build a cumulative table for many draws.</summary>
    public static int Sample(ReadOnlySpan<double> probabilities, double uniform)
    {
        if (!(uniform >= 0 && uniform < 1)) throw new ArgumentOutOfRangeException(nameof(uniform), uniform, "Uniform must be in [0, 1).");
        double total = 0;
        foreach (double p in probabilities) total += p;
        double target = uniform * total, cumulative = 0;
        for (int s = 0; s < probabilities.Length; s++)
        {
            cumulative += probabilities[s];
            if (cumulative > target) return s;
        }
        return probabilities.Length - 1;
    }

    /// <summary>(Σ|clip g| per seed, count per seed) for persistence.</summary>
    public (double[] SumAbs, long[] Count) Snapshot() => ((double[])_sumAbs.Clone(), (long[])_count.Clone());

    /// <summary>Rebuilds from <see cref="Snapshot"/>; throws InvalidDataException on inconsistent arrays.</summary>
    public static FedKSeedPro Restore(double[] sumAbs, long[] count, double clip = 1000)
    {
        ArgumentNullException.ThrowIfNull(sumAbs);
        ArgumentNullException.ThrowIfNull(count);
        if (sumAbs.Length != count.Length)
            throw new InvalidDataException($"FedKSeed-Pro snapshot has {sumAbs.Length} sums and {count.Length} counts.");
        var pro = new FedKSeedPro(sumAbs.Length, clip);
        for (int s = 0; s < sumAbs.Length; s++)
        {
            if (count[s] < 1 || !(sumAbs[s] >= 0) || double.IsInfinity(sumAbs[s]))
                throw new InvalidDataException($"FedKSeed-Pro snapshot entry {s} has count {count[s]} and sum {sumAbs[s]}.");
            pro._sumAbs[s] = sumAbs[s];
            pro._count[s] = count[s];
        }
        return pro;
    }

    private void CheckLength(int length, string name)
    {
        if (length != _sumAbs.Length) throw new ArgumentException($"Span has {length} entries; K is {_sumAbs.Length}.", name);
    }
}
