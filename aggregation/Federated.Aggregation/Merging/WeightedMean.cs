using System.Numerics.Tensors;

namespace Federated.Aggregation.Merging;

/// <summary>
/// FedAvg of dense (decoded) updates: merged[j] = Σᵢ wᵢ·uᵢ[j] / Σᵢ wᵢ, with wᵢ the client's sample count (or 1).
/// Zeros count as values here (a sparse update pulls the mean toward zero by its weight); use <see cref="Ties"/>
/// for a mean over the non-zero, sign-agreeing entries only. Summation runs in update order, so the result is
/// deterministic. Time: one fused multiply-add pass per update (TensorPrimitives).
/// </summary>
public static class WeightedMean
{
    /// <summary>Writes the weighted mean of <paramref name="updates"/> (all of length merged.Length) into
    /// <paramref name="merged"/>. Null <paramref name="weights"/> means equal weights.</summary>
    /// <exception cref="ArgumentException">No updates, mismatched lengths, or weights that are negative, non-finite or sum to 0.</exception>
    public static void Merge(IReadOnlyList<ReadOnlyMemory<float>> updates, ReadOnlySpan<double> weights, Span<float> merged)
    {
        double total = MergeWeights.Validate(updates, weights, merged.Length);
        merged.Clear();
        for (int i = 0; i < updates.Count; i++)
        {
            double w = weights.IsEmpty ? 1 : weights[i];
            if (w == 0) continue;
            TensorPrimitives.MultiplyAdd(updates[i].Span, (float)(w / total), merged, merged);
        }
    }

    /// <summary>Equal-weight mean.</summary>
    public static void Merge(IReadOnlyList<ReadOnlyMemory<float>> updates, Span<float> merged) =>
        Merge(updates, ReadOnlySpan<double>.Empty, merged);
}

/// <summary>Shared argument checks of the merge functions.</summary>
internal static class MergeWeights
{
    /// <summary>Validates shapes and weights and returns Σ wᵢ (the update count for empty weights).</summary>
    public static double Validate(IReadOnlyList<ReadOnlyMemory<float>> updates, ReadOnlySpan<double> weights, int length)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
            throw new ArgumentException("At least one update is needed to merge.", nameof(updates));
        for (int i = 0; i < updates.Count; i++)
            if (updates[i].Length != length)
                throw new ArgumentException($"Update {i} has {updates[i].Length} elements; the merged update has {length}.", nameof(updates));
        if (weights.IsEmpty) return updates.Count;
        if (weights.Length != updates.Count)
            throw new ArgumentException($"There are {weights.Length} weights for {updates.Count} updates.", nameof(weights));
        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (!(weights[i] >= 0 && double.IsFinite(weights[i])))
                throw new ArgumentException($"Weight {i} is {weights[i]}; weights must be finite and non-negative.", nameof(weights));
            total += weights[i];
        }
        if (total <= 0)
            throw new ArgumentException("The weights sum to zero.", nameof(weights));
        return total;
    }
}
