using System.Buffers;

namespace Federated.Aggregation.Merging;

/// <summary>Options of <see cref="Ties.Merge(IReadOnlyList{ReadOnlyMemory{float}}, ReadOnlySpan{double}, TiesOptions, Span{float})"/>.</summary>
public sealed record TiesOptions
{
    /// <summary>Defaults: no trim (inputs are already sparse ComPEFT updates), λ = 1.</summary>
    public static TiesOptions Default { get; } = new();

    /// <summary>Trim density in (0, 1]: each update keeps its round(d·n) largest |values| (ties by lower index) before
    /// the election; 1 keeps every non-zero (the right choice for already-sparse ternary updates). TIES uses 0.2.</summary>
    public double TrimDensity { get; init; } = 1.0;

    /// <summary>λ, the factor on the merged update (a server learning rate). Default 1. Do not reuse λ values tuned for
    /// task arithmetic (≈0.4, a sum of N task vectors) or for model merging (0.8–2.5): the disjoint mean is not divided by
    /// the number of clients, so λ = 1 already has the magnitude of one client's update.</summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(TrimDensity > 0 && TrimDensity <= 1))
            throw new ArgumentOutOfRangeException(nameof(TrimDensity), TrimDensity, "TrimDensity must be in (0, 1].");
        if (!double.IsFinite(Lambda))
            throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "Lambda must be finite.");
    }
}

/// <summary>
/// TIES-Merging (Yadav et al., arXiv 2306.01708; reference prateeky2806/ties-merging merge_utils.py) over dense updates τᵢ:
/// <list type="number">
/// <item>Trim: τ̃ᵢ = τᵢ masked to its top-k by magnitude (k = round(d·n), ties by lower index; d = 1 keeps all).</item>
/// <item>Elect: sⱼ = sign(Σᵢ wᵢ·τ̃ᵢ[j]) ("mass"); where that sum is exactly 0, sⱼ = sign(Σⱼ' sⱼ') (the reference's
/// "majority" zero-sign resolution).</item>
/// <item>Disjoint mean: τ[j] = λ·Σ_{i∈Aⱼ} wᵢ·τ̃ᵢ[j] / Σ_{i∈Aⱼ} wᵢ over Aⱼ = {i : τ̃ᵢ[j] ≠ 0, sign τ̃ᵢ[j] = sⱼ}; 0 when Aⱼ is empty.
/// Zeros never vote and never dilute the mean.</item>
/// </list>
/// With unit weights this is the reference's dis-mean. Deviations from the reference: k = round(d·n) rather than
/// int(d·n)+1 with all threshold ties kept; optional client weights wᵢ (sample counts). For ternary ComPEFT inputs
/// τ̂ᵢ = aᵢ·sᵢ the election is a weighted majority vote and the result is the mean scale of the agreeing clients.
/// Memory: n bytes of signs and n floats of weight sums (pooled). Time: three passes over every update.
/// </summary>
public static class Ties
{
    /// <summary>Merges <paramref name="updates"/> into <paramref name="merged"/> (overwritten). Empty
    /// <paramref name="weights"/> means unit weights (the original TIES).</summary>
    /// <exception cref="ArgumentException">No updates, mismatched lengths, or invalid weights.</exception>
    public static void Merge(IReadOnlyList<ReadOnlyMemory<float>> updates, ReadOnlySpan<double> weights, TiesOptions options, Span<float> merged)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        MergeWeights.Validate(updates, weights, merged.Length);
        int n = merged.Length, count = updates.Count;

        var masks = new TopKMask[count];
        int k = options.TrimDensity >= 1 ? n : (int)Math.Round(options.TrimDensity * n, MidpointRounding.AwayFromZero);
        for (int i = 0; i < count; i++)
            masks[i] = options.TrimDensity >= 1 ? TopKMask.All : TopKMask.Select(updates[i].Span, k);

        sbyte[] signs = ArrayPool<sbyte>.Shared.Rent(n);
        float[] weightSums = ArrayPool<float>.Shared.Rent(n);
        try
        {
            // Elect: merged temporarily holds Σᵢ wᵢ·τ̃ᵢ[j].
            merged.Clear();
            for (int i = 0; i < count; i++)
            {
                var u = updates[i].Span;
                var mask = masks[i];
                float w = Weight(weights, i);
                for (int j = 0; j < n; j++)
                    if (mask.Keeps(u[j], j)) merged[j] += w * u[j];
            }
            long signTotal = 0;
            for (int j = 0; j < n; j++)
            {
                signs[j] = (sbyte)Math.Sign(merged[j]);
                signTotal += signs[j];
            }
            sbyte majority = (sbyte)Math.Sign(signTotal);
            for (int j = 0; j < n; j++)
                if (signs[j] == 0) signs[j] = majority;

            // Disjoint mean over the kept, sign-agreeing, non-zero entries.
            merged.Clear();
            var den = weightSums.AsSpan(0, n);
            den.Clear();
            for (int i = 0; i < count; i++)
            {
                var u = updates[i].Span;
                var mask = masks[i];
                float w = Weight(weights, i);
                if (w == 0) continue;
                for (int j = 0; j < n; j++)
                {
                    float x = u[j];
                    if (x != 0 && Math.Sign(x) == signs[j] && mask.Keeps(x, j))
                    {
                        merged[j] += w * x;
                        den[j] += w;
                    }
                }
            }
            float lambda = (float)options.Lambda;
            for (int j = 0; j < n; j++)
                merged[j] = den[j] > 0 ? lambda * merged[j] / den[j] : 0f;
        }
        finally
        {
            ArrayPool<sbyte>.Shared.Return(signs);
            ArrayPool<float>.Shared.Return(weightSums);
        }
    }

    /// <summary>Unit-weight TIES (the original formulation).</summary>
    public static void Merge(IReadOnlyList<ReadOnlyMemory<float>> updates, TiesOptions options, Span<float> merged) =>
        Merge(updates, ReadOnlySpan<double>.Empty, options, merged);

    private static float Weight(ReadOnlySpan<double> weights, int i) => weights.IsEmpty ? 1f : (float)weights[i];
}
