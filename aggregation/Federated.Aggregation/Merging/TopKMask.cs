using System.Buffers;

namespace Federated.Aggregation.Merging;

/// <summary>
/// The TIES "trim" step without copying: the k largest |x| of one update, found in O(n) by a two-level radix select on
/// the IEEE-754 bits of |x| (high 16 bits, then low 16 bits). An element is kept when its magnitude bits exceed
/// <see cref="Threshold"/>, or equal it at an index ≤ <see cref="LastTieIndex"/> (ties by lower index first).
/// Exact zeros are never kept. Same rule as the ternary codec's selection.
/// </summary>
internal readonly record struct TopKMask(uint Threshold, int LastTieIndex)
{
    private const int Bins = 1 << 16;

    /// <summary>Keeps every non-zero element.</summary>
    public static TopKMask All => new(1, int.MaxValue);

    public static uint MagnitudeBits(float x) => BitConverter.SingleToUInt32Bits(x) & 0x7FFFFFFFu;

    public bool Keeps(float x, int index)
    {
        uint bits = MagnitudeBits(x);
        return bits > Threshold || (bits == Threshold && index <= LastTieIndex);
    }

    /// <summary>The mask keeping min(k, non-zero count) elements of <paramref name="values"/>.</summary>
    public static TopKMask Select(ReadOnlySpan<float> values, int k)
    {
        if (k <= 0) return new TopKMask(uint.MaxValue, -1);
        int[] rented = ArrayPool<int>.Shared.Rent(Bins);
        try
        {
            var h = rented.AsSpan(0, Bins);
            h.Clear();
            int nonZero = 0;
            foreach (float v in values)
            {
                uint bits = MagnitudeBits(v);
                if (bits != 0) { nonZero++; h[(int)(bits >> 16)]++; }
            }
            if (k >= nonZero) return All;
            int above = 0, high = Bins - 1;
            for (; high > 0 && above + h[high] < k; high--) above += h[high];
            h.Clear();
            foreach (float v in values)
            {
                uint bits = MagnitudeBits(v);
                if (bits >> 16 == (uint)high && bits != 0) h[(int)(bits & 0xFFFF)]++;
            }
            int low = Bins - 1;
            for (; low > 0 && above + h[low] < k; low--) above += h[low];
            uint threshold = ((uint)high << 16) | (uint)low;
            int ties = k - above, lastTie = -1;
            for (int i = 0; i < values.Length && ties > 0; i++)
                if (MagnitudeBits(values[i]) == threshold) { lastTie = i; ties--; }
            return new TopKMask(threshold, lastTie);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }
}
