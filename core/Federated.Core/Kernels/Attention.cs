using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>
/// Causal grouped-query attention for one sequence, head-major. Query head h reads kv head h / (heads / kvHeads).
///   S = Q_h K_gᵀ · hd^-½ ;  S[t, s] masked for s &gt; startPos + t ;  P = softmax_rows(S) ;  O_h = P V_g.
/// Shapes: q, output [heads, queryLen, hd]; k, v [kvHeads, capacity, hd] of which rows 0..keyLen−1 are used;
/// probs [heads, queryLen, keyLen]. With window &gt; 0 (Mistral) key s is also masked when startPos + t − s ≥ window. The products go through <see cref="MatMul"/>; time is O(heads·queryLen·keyLen·hd).
/// </summary>
internal static class Attention
{
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int headCount, int kvHeadCount, int headDim,
        int queryLen, int keyLen, int capacity, int startPos, Span<float> probs, Span<float> output, int window = 0)
    {
        int group = headCount / kvHeadCount;
        float scale = 1f / MathF.Sqrt(headDim);
        for (int h = 0; h < headCount; h++)
        {
            int g = h / group;
            var qh = q.Slice(h * queryLen * headDim, queryLen * headDim);
            var kg = k.Slice(g * capacity * headDim, keyLen * headDim);
            var vg = v.Slice(g * capacity * headDim, keyLen * headDim);
            var p = probs.Slice(h * queryLen * keyLen, queryLen * keyLen);
            MatMul.ABt(qh, kg, p, queryLen, headDim, keyLen);
            for (int t = 0; t < queryLen; t++)
            {
                var row = p.Slice(t * keyLen, keyLen);
                int valid = Math.Min(keyLen, startPos + t + 1);
                int first = window > 0 ? Math.Max(0, startPos + t - window + 1) : 0;
                var live = row.Slice(first, valid - first);
                row.Slice(0, first).Clear();
                TensorPrimitives.Multiply(live, scale, live);
                float max = TensorPrimitives.Max(live);
                TensorPrimitives.Subtract(live, max, live);
                TensorPrimitives.Exp(live, live);
                float sum = TensorPrimitives.Sum(live);
                TensorPrimitives.Divide(live, sum, live);
                row.Slice(valid).Clear();
            }
            MatMul.AB(p, vg, output.Slice(h * queryLen * headDim, queryLen * headDim), queryLen, keyLen, headDim);
        }
    }

    /// <summary>
    /// dP = dO Vᵀ; dV_g += Pᵀ dO; dS = P ⊙ (dP − rowsum(P ⊙ dP)) · hd^-½; dQ = dS K (overwritten); dK_g += dSᵀ Q.
    /// dK, dV are overwritten (zeroed first, then each group sums its query heads in order). scratch [queryLen·keyLen].
    /// </summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs, ReadOnlySpan<float> dOutput,
        int headCount, int kvHeadCount, int headDim, int queryLen, int keyLen, int capacity,
        Span<float> dQ, Span<float> dK, Span<float> dV, Span<float> scratch)
    {
        int group = headCount / kvHeadCount;
        float scale = 1f / MathF.Sqrt(headDim);
        dK.Slice(0, kvHeadCount * capacity * headDim).Clear();
        dV.Slice(0, kvHeadCount * capacity * headDim).Clear();
        var dS = scratch.Slice(0, queryLen * keyLen);
        for (int h = 0; h < headCount; h++)
        {
            int g = h / group;
            var qh = q.Slice(h * queryLen * headDim, queryLen * headDim);
            var kg = k.Slice(g * capacity * headDim, keyLen * headDim);
            var vg = v.Slice(g * capacity * headDim, keyLen * headDim);
            var p = probs.Slice(h * queryLen * keyLen, queryLen * keyLen);
            var dO = dOutput.Slice(h * queryLen * headDim, queryLen * headDim);
            MatMul.ABt(dO, vg, dS, queryLen, headDim, keyLen);
            MatMul.AtB(p, dO, dV.Slice(g * capacity * headDim, keyLen * headDim), keyLen, queryLen, headDim, accumulate: true);
            for (int t = 0; t < queryLen; t++)
            {
                var pr = p.Slice(t * keyLen, keyLen);
                var dr = dS.Slice(t * keyLen, keyLen);
                float dot = TensorPrimitives.Dot(pr, dr);
                TensorPrimitives.Subtract(dr, dot, dr);
                TensorPrimitives.Multiply(dr, pr, dr);
                TensorPrimitives.Multiply(dr, scale, dr);
            }
            MatMul.AB(dS, kg, dQ.Slice(h * queryLen * headDim, queryLen * headDim), queryLen, keyLen, headDim);
            MatMul.AtB(dS, qh, dK.Slice(g * capacity * headDim, keyLen * headDim), keyLen, queryLen, headDim, accumulate: true);
        }
    }
}
