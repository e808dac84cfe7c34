using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>
/// Rotary position embedding, Hugging Face "rotate_half" layout (halves, not interleaved):
/// for i &lt; hd/2 with c = cos(pos·f_i), s = sin(pos·f_i), f_i = 1/θ^(2i/hd):
///   y[i] = x[i]·c − x[i+hd/2]·s,   y[i+hd/2] = x[i+hd/2]·c + x[i]·s.
/// Forward also transposes token-major [seqLen, heads·hd] into head-major [heads, capacity, hd].
/// </summary>
internal static class Rope
{
    /// <summary>cos, sin [maxPositions, hd/2] computed like transformers in float32 (inv_freq, then pos·inv_freq).</summary>
    public static void BuildTables(int headDim, double theta, int maxPositions, Span<float> cos, Span<float> sin, Models.RopeScaling? scaling = null)
    {
        int half = headDim / 2;
        Span<float> invFreq = half <= 512 ? stackalloc float[half] : new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / headDim;
            invFreq[i] = 1f / (float)Math.Pow(theta, exponent);
            if (scaling is not null) invFreq[i] = scaling.Apply(invFreq[i]);
        }
        for (int p = 0; p < maxPositions; p++)
        for (int i = 0; i < half; i++)
        {
            float f = p * invFreq[i];
            cos[p * half + i] = (float)Math.Cos(f);
            sin[p * half + i] = (float)Math.Sin(f);
        }
    }

    /// <summary>x [seqLen, heads·hd] → output [heads, capacity, hd] at rows startRow + t, rotated by position startPos + t.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int seqLen, int headCount, int headDim,
        int startPos, int startRow, int capacity, Span<float> output)
    {
        int half = headDim / 2, width = headCount * headDim;
        for (int t = 0; t < seqLen; t++)
        {
            int pos = startPos + t;
            var c = cos.Slice(pos * half, half);
            var s = sin.Slice(pos * half, half);
            for (int h = 0; h < headCount; h++)
            {
                var src = x.Slice(t * width + h * headDim, headDim);
                var dst = output.Slice((h * capacity + startRow + t) * headDim, headDim);
                var lo = src.Slice(0, half);
                var hi = src.Slice(half, half);
                var dlo = dst.Slice(0, half);
                var dhi = dst.Slice(half, half);
                // dlo = lo·c − hi·s ; dhi = hi·c + lo·s
                TensorPrimitives.Multiply(hi, s, dlo);
                TensorPrimitives.Multiply(lo, s, dhi);
                TensorPrimitives.MultiplyAdd(hi, c, dhi, dhi);
                TensorPrimitives.Negate(dlo, dlo);
                TensorPrimitives.MultiplyAdd(lo, c, dlo, dlo);
            }
        }
    }

    /// <summary>
    /// Transpose of <see cref="Forward"/>: dOutput [heads, capacity, hd] rows startRow.. → dX [seqLen, heads·hd] (overwritten):
    /// dx[i] = dy[i]·c + dy[i+hd/2]·s, dx[i+hd/2] = dy[i+hd/2]·c − dy[i]·s.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int seqLen, int headCount, int headDim,
        int startPos, int startRow, int capacity, Span<float> dX)
    {
        int half = headDim / 2, width = headCount * headDim;
        for (int t = 0; t < seqLen; t++)
        {
            int pos = startPos + t;
            var c = cos.Slice(pos * half, half);
            var s = sin.Slice(pos * half, half);
            for (int h = 0; h < headCount; h++)
            {
                var src = dOutput.Slice((h * capacity + startRow + t) * headDim, headDim);
                var dst = dX.Slice(t * width + h * headDim, headDim);
                var lo = src.Slice(0, half);
                var hi = src.Slice(half, half);
                var dlo = dst.Slice(0, half);
                var dhi = dst.Slice(half, half);
                TensorPrimitives.Multiply(hi, s, dlo);
                TensorPrimitives.MultiplyAdd(lo, c, dlo, dlo);
                TensorPrimitives.Multiply(lo, s, dhi);
                TensorPrimitives.Negate(dhi, dhi);
                TensorPrimitives.MultiplyAdd(hi, c, dhi, dhi);
            }
        }
    }
}
