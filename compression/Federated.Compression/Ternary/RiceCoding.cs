namespace Federated.Compression.Ternary;

/// <summary>
/// Golomb–Rice coding of the gaps between ascending positions. A gap g costs (g ≫ b) + 1 + b bits, so a stream of k gaps
/// costs k·(1 + b) + Σ(g_i ≫ b). The encoder evaluates that exact cost for every b and keeps the cheapest (lowest b on
/// ties); for geometric gaps with density d this lands on the classic optimum b* = 1 + ⌊log₂(ln(φ−1)/ln(1−d))⌋
/// (φ the golden ratio), and is never worse than it. Time: O(k·log(n/k)).
/// </summary>
internal static class RiceCoding
{
    public const int MaxParameter = 31;

    /// <summary>Returns the cheapest Rice parameter and its exact cost in bits for the given ascending positions.</summary>
    public static (int Parameter, long Bits) ChooseParameter(ReadOnlySpan<int> positions)
    {
        Span<long> quotientSums = stackalloc long[MaxParameter + 1];
        quotientSums.Clear();
        int prev = -1;
        foreach (int p in positions)
        {
            uint g = (uint)(p - prev - 1);
            prev = p;
            for (int b = 0; g != 0 && b <= MaxParameter; b++, g >>= 1)
                quotientSums[b] += g;
        }
        int best = 0;
        long bestBits = long.MaxValue;
        for (int b = 0; b <= MaxParameter; b++)
        {
            long bits = (long)positions.Length * (1 + b) + quotientSums[b];
            if (bits < bestBits) { best = b; bestBits = bits; }
        }
        return (best, bestBits);
    }

    /// <summary>The density formula b* = 1 + ⌊log₂(ln(φ−1)/ln(1−d))⌋ (STC, Sattler et al.), clamped to [0, 31].</summary>
    public static int FormulaParameter(double density)
    {
        if (density <= 0) return MaxParameter;
        if (density >= 1) return 0;
        double phi = (1 + Math.Sqrt(5)) / 2;
        double b = 1 + Math.Floor(Math.Log2(Math.Log(phi - 1) / Math.Log(1 - density)));
        return (int)Math.Clamp(b, 0, MaxParameter);
    }

    public static void Write(ref BitWriter writer, ReadOnlySpan<int> positions, int b)
    {
        int prev = -1;
        foreach (int p in positions)
        {
            uint g = (uint)(p - prev - 1);
            prev = p;
            writer.WriteUnary(g >> b);
            writer.Write(g, b);
        }
        writer.Flush();
    }

    /// <summary>Decodes <paramref name="positions"/>.Length positions; each must be below <paramref name="n"/>.</summary>
    public static void Read(ref BitReader reader, int b, int n, Span<int> positions)
    {
        long prev = -1;
        for (int i = 0; i < positions.Length; i++)
        {
            long q = reader.ReadUnary();
            if (q > n)
                throw new InvalidDataException($"Ternary payload: Rice quotient {q} of position {i} exceeds the element count {n}.");
            long g = (q << b) | reader.Read(b);
            long p = prev + 1 + g;
            if (p >= n)
                throw new InvalidDataException($"Ternary payload: position {i} decodes to {p}, beyond the element count {n}.");
            positions[i] = (int)p;
            prev = p;
        }
    }
}
