using System.Buffers.Binary;

namespace Federated.Server.Strategies;

/// <summary>
/// Pure FedKSeed server maths (Qin et al., arXiv 2312.06353). A client reports τ pairs (seed index s_t, projected
/// gradient g_t) and its sample count n_c. The server's accumulated scalar per seed changes by
///   ΔH[s] = Σ_c (n_c / N) · Σ_{t : s_t = s} g_{c,t},   N = Σ_c n_c,
/// which equals FedAvg of the clients' models: θ ← θ − η · Σ_s ΔH[s] · z_s. Sums run in double, clients in the
/// order given (the coordinator sorts by client id), so the result is deterministic.
/// Integrator: when branch `seeds` lands, FedKSeedAccumulator may replace <see cref="RoundDelta"/>; keep this contract.
/// </summary>
public static class SeedScalarAggregation
{
    /// <summary>Per-seed ΔH of one round, as a sorted sparse map (seed index → ΔH). Seeds nobody drew are absent.</summary>
    public static SortedDictionary<uint, double> RoundDelta(IReadOnlyList<(uint[] SeedIndices, float[] Scalars, ulong SampleCount)> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        double total = 0;
        foreach (var u in updates) total += u.SampleCount;
        var delta = new SortedDictionary<uint, double>();
        if (total <= 0) return delta;
        foreach (var (indices, scalars, sampleCount) in updates)
        {
            if (indices.Length != scalars.Length)
                throw new ArgumentException($"An update has {indices.Length} seed indices and {scalars.Length} scalars.", nameof(updates));
            double weight = sampleCount / total;
            for (int t = 0; t < indices.Length; t++)
            {
                delta.TryGetValue(indices[t], out double h);
                delta[indices[t]] = h + weight * scalars[t];
            }
        }
        return delta;
    }

    /// <summary>Sums per-version sparse deltas into one sparse ΔH (ascending seed order).</summary>
    public static SortedDictionary<uint, double> Sum(IEnumerable<SortedDictionary<uint, double>> deltas)
    {
        var sum = new SortedDictionary<uint, double>();
        foreach (var d in deltas)
            foreach (var (s, v) in d)
            {
                sum.TryGetValue(s, out double h);
                sum[s] = h + v;
            }
        return sum;
    }

    /// <summary>Stored form of a version's ΔH: u32 LE count, then count × (u32 LE seed index, f64 LE ΔH), ascending.</summary>
    public static byte[] EncodeDelta(SortedDictionary<uint, double> delta)
    {
        var bytes = new byte[4 + delta.Count * 12];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)delta.Count);
        int offset = 4;
        foreach (var (s, v) in delta)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), s);
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(offset + 4), v);
            offset += 12;
        }
        return bytes;
    }

    /// <summary>Inverse of <see cref="EncodeDelta"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a stored ΔH.</exception>
    public static SortedDictionary<uint, double> DecodeDelta(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) throw new InvalidDataException($"A stored seed delta has {bytes.Length} bytes; at least 4 are needed.");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if ((ulong)bytes.Length != 4 + (ulong)count * 12)
            throw new InvalidDataException($"A stored seed delta declares {count} entries but has {bytes.Length} bytes.");
        var delta = new SortedDictionary<uint, double>();
        for (int i = 0; i < count; i++)
        {
            var entry = bytes.Slice(4 + i * 12, 12);
            delta[BinaryPrimitives.ReadUInt32LittleEndian(entry)] = BinaryPrimitives.ReadDoubleLittleEndian(entry[4..]);
        }
        return delta;
    }
}
