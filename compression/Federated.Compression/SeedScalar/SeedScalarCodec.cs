using System.Buffers.Binary;

namespace Federated.Compression.SeedScalar;

using SeedScalar = Federated.Core.Seeds.SeedScalar;

/// <summary>A decoded downlink: the seeds whose H changed between two model versions, with their float32 ΔH, in index order.</summary>
public sealed record SeedDeltaPayload(int SeedCount, uint FromVersion, uint ToVersion, SeedScalar[] Deltas);

/// <summary>
/// The FedKSeed wire payloads (docs/fedkseed.md §5), little-endian, format version 1:
/// <code>
/// uplink          : u8 version=1 | u8 kind=1 | u32 K | u32 n | n × (u16 seed index, f32 g)                    | u32 CRC32   = 14 + 6n bytes
/// downlink sparse : u8 version=1 | u8 kind=2 | u32 K | u32 from | u32 to | u32 n | n × (u16 index, f32 ΔH)   | u32 CRC32   = 22 + 6n bytes
/// downlink dense  : u8 version=1 | u8 kind=3 | u32 K | u32 from | u32 to | K × f32 ΔH                        | u32 CRC32   = 18 + 4K bytes
/// </code>
/// The uplink keeps every step, in order, not per-seed sums: FedKSeed-Pro needs each |g|, and 6 bytes per step beats a
/// dense K-vector whenever τ &lt; 2K/3. Sparse downlink indices are strictly increasing. The encoder picks the smaller
/// downlink (sparse iff 6n + 4 &lt; 4K). CRC32 (IEEE) covers every byte before it. At K = 4096, τ = 200 the worst case is
/// 1,214 B up + 16,402 B down = 17,616 B ≤ 18 KiB. Decoders reject truncation, bad version/kind/K/count, checksum
/// mismatch, index ≥ K and non-finite values with <see cref="InvalidDataException"/>.
/// </summary>
public static class SeedScalarCodec
{
    /// <summary>Format version written and accepted.</summary>
    public const byte FormatVersion = 1;
    internal const byte KindUplink = 1, KindSparse = 2, KindDense = 3;
    private const int UplinkHeader = 10, DownlinkHeader = 14, CrcSize = 4, Pair = 6;

    /// <summary>Bytes of an uplink with <paramref name="count"/> steps: 14 + 6·count.</summary>
    public static int UplinkSize(int count) => UplinkHeader + Pair * count + CrcSize;

    /// <summary>Bytes of a sparse downlink with <paramref name="count"/> entries: 22 + 6·count.</summary>
    public static int SparseDownlinkSize(int count) => DownlinkHeader + 4 + Pair * count + CrcSize;

    /// <summary>Bytes of a dense downlink for K seeds: 18 + 4·K.</summary>
    public static int DenseDownlinkSize(int seedCount) => DownlinkHeader + 4 * seedCount + CrcSize;

    /// <summary>Bytes of the downlink the encoder chooses for <paramref name="count"/> changed seeds.</summary>
    public static int DownlinkSize(int seedCount, int count) => Math.Min(SparseDownlinkSize(count), DenseDownlinkSize(seedCount));

    /// <summary>Encodes a client's τ steps, in order; duplicates of a seed index are allowed.</summary>
    public static byte[] EncodeUplink(int seedCount, IReadOnlyList<SeedScalar> steps)
    {
        CheckSeedCount(seedCount);
        ArgumentNullException.ThrowIfNull(steps);
        var payload = new byte[UplinkSize(steps.Count)];
        payload[0] = FormatVersion;
        payload[1] = KindUplink;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(2), (uint)seedCount);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(6), (uint)steps.Count);
        WritePairs(steps, seedCount, payload.AsSpan(UplinkHeader), nameof(steps));
        WriteCrc(payload);
        return payload;
    }

    /// <summary>Decodes and validates an uplink for a pool of <paramref name="seedCount"/> seeds.</summary>
    public static SeedScalar[] DecodeUplink(ReadOnlySpan<byte> payload, int seedCount)
    {
        const string what = "Seed-scalar uplink payload";
        CheckHeader(payload, seedCount, UplinkHeader + CrcSize, KindUplink, what);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[6..]);
        long expected = UplinkHeader + Pair * (long)count + CrcSize;
        if (payload.Length != expected)
            throw new InvalidDataException($"{what} declares {count} steps ({expected} bytes) but has {payload.Length} bytes.");
        CheckCrc(payload, what);
        return ReadPairs(payload.Slice(UplinkHeader, Pair * (int)count), seedCount, increasing: false, what);
    }

    /// <summary>Encodes ΔH for the seeds changed between two versions (index order, no duplicates), sparse or dense, whichever is smaller.</summary>
    public static byte[] EncodeDownlink(int seedCount, uint fromVersion, uint toVersion, IReadOnlyList<SeedScalar> deltas)
    {
        CheckSeedCount(seedCount);
        ArgumentNullException.ThrowIfNull(deltas);
        if (fromVersion > toVersion)
            throw new ArgumentException($"From-version {fromVersion} is after to-version {toVersion}.", nameof(fromVersion));
        for (int i = 1; i < deltas.Count; i++)
            if (deltas[i].SeedIndex <= deltas[i - 1].SeedIndex)
                throw new ArgumentException($"Delta {i} has seed index {deltas[i].SeedIndex}, not after {deltas[i - 1].SeedIndex}; indices must increase.", nameof(deltas));
        bool sparse = SparseDownlinkSize(deltas.Count) < DenseDownlinkSize(seedCount);
        var payload = new byte[sparse ? SparseDownlinkSize(deltas.Count) : DenseDownlinkSize(seedCount)];
        payload[0] = FormatVersion;
        payload[1] = sparse ? KindSparse : KindDense;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(2), (uint)seedCount);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(6), fromVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(10), toVersion);
        if (sparse)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(DownlinkHeader), (uint)deltas.Count);
            WritePairs(deltas, seedCount, payload.AsSpan(DownlinkHeader + 4), nameof(deltas));
        }
        else
        {
            var dense = payload.AsSpan(DownlinkHeader, 4 * seedCount);
            foreach (var d in deltas)
            {
                CheckEntry(d, seedCount, nameof(deltas));
                BinaryPrimitives.WriteSingleLittleEndian(dense[(4 * d.SeedIndex)..], d.Value);
            }
        }
        WriteCrc(payload);
        return payload;
    }

    /// <summary>Decodes and validates a downlink (either kind); yields the non-zero entries (zero ΔH needs no replay).</summary>
    public static SeedDeltaPayload DecodeDownlink(ReadOnlySpan<byte> payload, int seedCount)
    {
        const string what = "Seed-scalar downlink payload";
        CheckHeader(payload, seedCount, DownlinkHeader + CrcSize, payload.Length > 1 && payload[1] == KindDense ? KindDense : KindSparse, what);
        uint from = BinaryPrimitives.ReadUInt32LittleEndian(payload[6..]);
        uint to = BinaryPrimitives.ReadUInt32LittleEndian(payload[10..]);
        SeedScalar[] deltas;
        if (payload[1] == KindSparse)
        {
            if (payload.Length < SparseDownlinkSize(0))
                throw new InvalidDataException($"{what} is truncated: {payload.Length} bytes, a sparse header needs {SparseDownlinkSize(0)}.");
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[DownlinkHeader..]);
            long expected = DownlinkHeader + 4 + Pair * (long)count + CrcSize;
            if (payload.Length != expected)
                throw new InvalidDataException($"{what} declares {count} entries ({expected} bytes) but has {payload.Length} bytes.");
            CheckCrc(payload, what);
            deltas = Array.FindAll(ReadPairs(payload.Slice(DownlinkHeader + 4, Pair * (int)count), seedCount, increasing: true, what), d => d.Value != 0);
        }
        else
        {
            int expected = DenseDownlinkSize(seedCount);
            if (payload.Length != expected)
                throw new InvalidDataException($"{what} is dense for K = {seedCount} ({expected} bytes) but has {payload.Length} bytes.");
            CheckCrc(payload, what);
            var list = new List<SeedScalar>();
            for (int s = 0; s < seedCount; s++)
            {
                float v = BinaryPrimitives.ReadSingleLittleEndian(payload[(DownlinkHeader + 4 * s)..]);
                if (!float.IsFinite(v)) throw new InvalidDataException($"{what} has a non-finite ΔH for seed {s}.");
                if (v != 0) list.Add(new SeedScalar(s, v));
            }
            deltas = list.ToArray();
        }
        if (from > to) throw new InvalidDataException($"{what} goes from version {from} back to {to}.");
        return new SeedDeltaPayload(seedCount, from, to, deltas);
    }

    private static void CheckSeedCount(int seedCount)
    {
        if (seedCount < 1 || seedCount > 1 << 16)
            throw new ArgumentOutOfRangeException(nameof(seedCount), seedCount, "Seed count K must be in [1, 65536] (indices travel as uint16).");
    }

    private static void CheckEntry(SeedScalar entry, int seedCount, string name)
    {
        if ((uint)entry.SeedIndex >= (uint)seedCount)
            throw new ArgumentException($"Seed index {entry.SeedIndex} is outside [0, {seedCount}).", name);
        if (!float.IsFinite(entry.Value))
            throw new ArgumentException($"Scalar for seed {entry.SeedIndex} is not finite.", name);
    }

    private static void WritePairs(IReadOnlyList<SeedScalar> entries, int seedCount, Span<byte> destination, string name)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            CheckEntry(e, seedCount, name);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(Pair * i)..], (ushort)e.SeedIndex);
            BinaryPrimitives.WriteSingleLittleEndian(destination[(Pair * i + 2)..], e.Value);
        }
    }

    private static SeedScalar[] ReadPairs(ReadOnlySpan<byte> source, int seedCount, bool increasing, string what)
    {
        var entries = new SeedScalar[source.Length / Pair];
        for (int i = 0; i < entries.Length; i++)
        {
            int index = BinaryPrimitives.ReadUInt16LittleEndian(source[(Pair * i)..]);
            float value = BinaryPrimitives.ReadSingleLittleEndian(source[(Pair * i + 2)..]);
            if (index >= seedCount) throw new InvalidDataException($"{what} entry {i} has seed index {index}, not below K = {seedCount}.");
            if (!float.IsFinite(value)) throw new InvalidDataException($"{what} entry {i} (seed {index}) has a non-finite scalar.");
            if (increasing && i > 0 && index <= entries[i - 1].SeedIndex)
                throw new InvalidDataException($"{what} entry {i} has seed index {index}, not after {entries[i - 1].SeedIndex}.");
            entries[i] = new SeedScalar(index, value);
        }
        return entries;
    }

    private static void CheckHeader(ReadOnlySpan<byte> payload, int seedCount, int minimum, byte kind, string what)
    {
        CheckSeedCount(seedCount);
        if (payload.Length < minimum)
            throw new InvalidDataException($"{what} is truncated: {payload.Length} bytes, the header and checksum need {minimum}.");
        if (payload[0] != FormatVersion)
            throw new InvalidDataException($"{what} has format version {payload[0]}; this build reads version {FormatVersion}.");
        if (payload[1] != kind)
            throw new InvalidDataException($"{what} has kind {payload[1]}, expected {kind}.");
        uint k = BinaryPrimitives.ReadUInt32LittleEndian(payload[2..]);
        if (k != seedCount)
            throw new InvalidDataException($"{what} is for K = {k} seeds but the pool has {seedCount}.");
    }

    private static void WriteCrc(byte[] payload) =>
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(payload.Length - CrcSize), Crc32.Compute(payload.AsSpan(0, payload.Length - CrcSize)));

    private static void CheckCrc(ReadOnlySpan<byte> payload, string what)
    {
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(payload[^CrcSize..]);
        uint actual = Crc32.Compute(payload[..^CrcSize]);
        if (stored != actual)
            throw new InvalidDataException($"{what} checksum mismatch: stored CRC32 0x{stored:X8}, computed 0x{actual:X8}.");
    }
}
