using System.Buffers;

namespace Federated.Compression.Ternary;

/// <summary>
/// Global top-k by magnitude in O(n) with a two-level radix select on the IEEE-754 bits of |x|
/// (for non-negative finite floats the bit pattern, read as an unsigned integer, orders like the value).
/// Pass 1: histogram of the high 16 bits; pass 2: histogram of the low 16 bits inside the threshold bucket;
/// pass 3: emit positions in ascending order. Ties at the threshold magnitude are broken by lower index first, so the
/// result is deterministic and independent of thread count. Exact zeros are never selected. Time: three linear passes
/// over n plus two 65,536-bin scans; memory: one pooled 256 KiB histogram.
/// </summary>
internal static class TopKSelector
{
    private const int Bins = 1 << 16;

    /// <summary>
    /// Writes the ascending positions of the <paramref name="k"/> largest |values| into <paramref name="positions"/>
    /// and returns how many were written: min(k, number of non-zero values).
    /// </summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static int Select(ReadOnlySpan<float> values, int k, Span<int> positions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0 || values.Length == 0) return 0;
        int[] hist = ArrayPool<int>.Shared.Rent(Bins);
        try
        {
            var h = hist.AsSpan(0, Bins);
            h.Clear();
            int nonZero = 0;
            for (int i = 0; i < values.Length; i++)
            {
                uint bits = MagnitudeBits(values[i]);
                if (bits >= 0x7F800000u)
                    throw new ArgumentException($"Update element {i} is {values[i]}; the ternary codec needs finite values.", nameof(values));
                if (bits != 0) { nonZero++; h[(int)(bits >> 16)]++; }
            }
            k = Math.Min(k, nonZero);
            if (k == 0) return 0;
            if (positions.Length < k)
                throw new ArgumentException($"Positions span holds {positions.Length}, needs {k}.", nameof(positions));

            // High 16 bits of the threshold: the bucket where the count from the top first reaches k.
            int above = 0, high = Bins - 1;
            for (; high > 0; high--)
            {
                if (above + h[high] >= k) break;
                above += h[high];
            }

            h.Clear();
            for (int i = 0; i < values.Length; i++)
            {
                uint bits = MagnitudeBits(values[i]);
                if ((bits >> 16) == (uint)high && bits != 0) h[(int)(bits & 0xFFFF)]++;
            }
            int low = Bins - 1;
            for (; low > 0; low--)
            {
                if (above + h[low] >= k) break;
                above += h[low];
            }
            uint threshold = ((uint)high << 16) | (uint)low;
            int tiesNeeded = k - above; // entries equal to the threshold magnitude, taken by ascending index

            int count = 0;
            for (int i = 0; i < values.Length; i++)
            {
                uint bits = MagnitudeBits(values[i]);
                if (bits > threshold || (bits == threshold && tiesNeeded-- > 0))
                    positions[count++] = i;
            }
            return count;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(hist);
        }
    }

    private static uint MagnitudeBits(float x) => BitConverter.SingleToUInt32Bits(x) & 0x7FFFFFFFu;
}
