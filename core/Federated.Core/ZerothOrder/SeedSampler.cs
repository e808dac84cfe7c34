using Federated.Core.Generation;

namespace Federated.Core.ZerothOrder;

/// <summary>
/// Draws seed indices for local steps: uniform over K (FedKSeed) or from per-seed probabilities (FedKSeed-Pro),
/// by inverse CDF over a cumulative table (O(log K) per draw). The random stream is an owned SplitMix64 so that a
/// client's choices are a function of its stream seed alone, on every machine.
/// </summary>
public sealed class SeedSampler
{
    private readonly double[]? _cumulative;
    private readonly int _count;

    /// <summary>Uniform over <paramref name="seedCount"/> seeds when <paramref name="probabilities"/> is empty.</summary>
    public SeedSampler(int seedCount, ReadOnlySpan<double> probabilities = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seedCount, 1);
        _count = seedCount;
        if (probabilities.IsEmpty) return;
        if (probabilities.Length != seedCount)
            throw new ArgumentException($"{probabilities.Length} seed probabilities for a pool of {seedCount}.", nameof(probabilities));
        _cumulative = new double[seedCount];
        double sum = 0;
        for (int s = 0; s < seedCount; s++)
        {
            double p = probabilities[s];
            if (!(p >= 0) || double.IsInfinity(p))
                throw new ArgumentException($"Seed probability {s} is {p}; probabilities must be finite and non-negative.", nameof(probabilities));
            _cumulative[s] = sum += p;
        }
        if (!(sum > 0)) throw new ArgumentException("Seed probabilities sum to zero.", nameof(probabilities));
    }

    /// <summary>The next seed index from <paramref name="random"/>.</summary>
    public int Next(ref SplitMix64 random)
    {
        if (_cumulative is null) return (int)(random.NextDouble() * _count);
        double target = random.NextDouble() * _cumulative[^1];
        int index = Array.BinarySearch(_cumulative, target);
        index = index >= 0 ? index + 1 : ~index; // first entry with cumulative > target
        return Math.Min(index, _count - 1);
    }
}
