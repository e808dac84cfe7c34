using System.Buffers;
using System.Buffers.Binary;

namespace Federated.Compression.Ternary;

/// <summary>
/// ComPEFT ternary codec. Encode: global top-k of |Δ| (O(n) radix select, ties by lower index), keep the signs, one
/// scale per update (or per tensor); positions as Golomb–Rice gaps or a bitmap, whichever is smaller; one bit per sign;
/// a CRC-32 over everything. Decode: dense Δ̂ with Δ̂[p] = scale(p)·sign(p) at the kept positions, 0 elsewhere.
/// Malformed payloads throw <see cref="InvalidDataException"/> with one sentence saying what is wrong.
/// Byte layout: docs/compeft.md. Time: encode ≈ 3 passes over n plus O(k log(n/k)); decode O(k) (+ n/8 for a bitmap).
/// </summary>
public static class TernaryCodec
{
    /// <summary>k = max(1, round(d·n)) for n &gt; 0 (capped at n), 0 for n = 0.</summary>
    public static int KeptCount(int elementCount, double density)
    {
        if (elementCount == 0) return 0;
        long k = (long)Math.Round(density * elementCount, MidpointRounding.AwayFromZero);
        return (int)Math.Clamp(k, 1, elementCount);
    }

    /// <summary>Compresses the flattened update <paramref name="delta"/> (float32, finite) into a version-1 payload.</summary>
    /// <exception cref="ArgumentException">Non-finite values, or tensor lengths that do not sum to the update length.</exception>
    public static byte[] Encode(ReadOnlySpan<float> delta, TernaryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n = delta.Length;
        int[] lengths = options.TensorLengths is { } tl ? [.. tl] : [n];
        long sum = 0;
        foreach (int len in lengths) sum += len;
        if (sum != n)
            throw new ArgumentException($"TensorLengths sum to {sum} but the update has {n} elements.", nameof(options));

        int target = KeptCount(n, options.Density);
        int[] rented = ArrayPool<int>.Shared.Rent(Math.Max(target, 1));
        try
        {
            int k = TopKSelector.Select(delta, target, rented);
            ReadOnlySpan<int> positions = rented.AsSpan(0, k);
            float[] scales = ComputeScales(delta, positions, lengths, options);
            return Write(delta, positions, lengths, scales);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes <paramref name="payload"/> into a new dense array of its element count.</summary>
    public static float[] Decode(ReadOnlySpan<byte> payload)
    {
        var header = ReadHeader(payload);
        var dense = new float[header.ElementCount];
        DecodeCore(payload, dense, 1f, accumulate: false);
        return dense;
    }

    /// <summary>Decodes <paramref name="payload"/> into <paramref name="destination"/> (length n), overwriting it.</summary>
    public static void Decode(ReadOnlySpan<byte> payload, Span<float> destination) =>
        DecodeCore(payload, destination, 1f, accumulate: false);

    /// <summary>accumulator += weight·Δ̂, touching only the k kept positions (for server-side sums without a dense copy).</summary>
    public static void DecodeAccumulate(ReadOnlySpan<byte> payload, float weight, Span<float> accumulator) =>
        DecodeCore(payload, accumulator, weight, accumulate: true);

    /// <summary>Validates the checksum and the header and returns it (no position decoding).</summary>
    public static TernaryHeader ReadHeader(ReadOnlySpan<byte> payload) => Parse(payload, out _, out _);

    private static float[] ComputeScales(ReadOnlySpan<float> delta, ReadOnlySpan<int> positions, int[] lengths, TernaryOptions options)
    {
        var scales = new float[lengths.Length];
        int start = 0, cursor = 0;
        double alpha = options.ScaleMode == TernaryScaleMode.SigmaMultiple ? options.EffectiveAlpha : 0;
        for (int t = 0; t < lengths.Length; t++)
        {
            int end = start + lengths[t];
            if (options.ScaleMode == TernaryScaleMode.SigmaMultiple)
            {
                scales[t] = (float)(alpha * StandardDeviation(delta[start..end]));
                while (cursor < positions.Length && positions[cursor] < end) cursor++;
            }
            else
            {
                // Least squares for a fixed sign pattern: argmin_c Σ(|x_p| − c)² = mean |x_p| over the kept positions.
                double l1 = 0;
                int kept = 0;
                for (; cursor < positions.Length && positions[cursor] < end; cursor++, kept++)
                    l1 += Math.Abs(delta[positions[cursor]]);
                scales[t] = kept == 0 ? 0f : (float)(l1 / kept);
            }
            start = end;
        }
        return scales;
    }

    /// <summary>Unbiased (n−1) standard deviation in double, two passes (as torch.std); 0 for fewer than 2 values.</summary>
    internal static double StandardDeviation(ReadOnlySpan<float> x)
    {
        if (x.Length < 2) return 0;
        double mean = 0;
        foreach (float v in x) mean += v;
        mean /= x.Length;
        double ss = 0;
        foreach (float v in x) { double d = v - mean; ss += d * d; }
        return Math.Sqrt(ss / (x.Length - 1));
    }

    private static byte[] Write(ReadOnlySpan<float> delta, ReadOnlySpan<int> positions, int[] lengths, float[] scales)
    {
        int n = delta.Length, k = positions.Length, s = lengths.Length;
        var (b, riceBits) = RiceCoding.ChooseParameter(positions);
        long riceBytes = (riceBits + 7) / 8, bitmapBytes = ((long)n + 7) / 8;
        // Rice with b = 0 is a run-length form of the bitmap costing (last position + 1) bits, so the bitmap can only tie
        // with the best Rice code; on a tie the bitmap wins (no parameter, word-at-a-time decode).
        var coding = bitmapBytes <= riceBytes ? TernaryPositionCoding.Bitmap : TernaryPositionCoding.Rice;
        int positionBytes = (int)(coding == TernaryPositionCoding.Rice ? riceBytes : bitmapBytes);
        int signBytes = (k + 7) / 8;
        int headerBytes = TernaryFormat.HeaderBytes(n, k, lengths, positionBytes);
        long total = (long)headerBytes + positionBytes + signBytes + TernaryFormat.ChecksumBytes;
        if (total > Array.MaxLength)
            throw new ArgumentException($"A ternary payload of {total} bytes would exceed the array limit.", nameof(delta));

        var payload = new byte[total];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, TernaryFormat.Magic);
        span[4] = TernaryFormat.Version;
        span[5] = (byte)coding;
        span[6] = (byte)(coding == TernaryPositionCoding.Rice ? b : 0);
        int pos = 7;
        pos += VarInt.Write(span[pos..], (uint)n);
        pos += VarInt.Write(span[pos..], (uint)k);
        pos += VarInt.Write(span[pos..], (uint)s);
        if (s > 1)
            foreach (int len in lengths) pos += VarInt.Write(span[pos..], (uint)len);
        foreach (float scale in scales) { BinaryPrimitives.WriteSingleLittleEndian(span[pos..], scale); pos += 4; }
        pos += VarInt.Write(span[pos..], (uint)positionBytes);

        var posStream = span.Slice(pos, positionBytes);
        if (coding == TernaryPositionCoding.Rice)
        {
            var writer = new BitWriter(posStream);
            RiceCoding.Write(ref writer, positions, b);
        }
        else
        {
            posStream.Clear();
            foreach (int p in positions) posStream[p >> 3] |= (byte)(1 << (p & 7));
        }
        pos += positionBytes;

        // Signs in position order, bit set = negative.
        var signStream = span.Slice(pos, signBytes);
        signStream.Clear();
        for (int i = 0; i < k; i++)
            if (delta[positions[i]] < 0) signStream[i >> 3] |= (byte)(1 << (i & 7));
        pos += signBytes;

        BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], Crc32.Compute(span[..pos]));
        return payload;
    }

    private static TernaryHeader Parse(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> positionStream, out ReadOnlySpan<byte> signStream)
    {
        if (payload.Length < TernaryFormat.MinimumBytes)
            throw new InvalidDataException(
                $"Ternary payload is truncated: {payload.Length} bytes, the smallest valid payload has {TernaryFormat.MinimumBytes}.");
        var reader = new ByteReader(payload);
        uint magic = reader.ReadUInt32("magic");
        if (magic != TernaryFormat.Magic)
            throw new InvalidDataException($"Not a ternary payload: magic 0x{magic:X8}, expected 0x{TernaryFormat.Magic:X8} (\"TRNY\").");
        byte version = reader.ReadByte("version");
        if (version != TernaryFormat.Version)
            throw new InvalidDataException($"Unsupported ternary payload version {version}; this build reads version {TernaryFormat.Version}.");
        int body = payload.Length - TernaryFormat.ChecksumBytes;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(payload[body..]);
        uint actual = Crc32.Compute(payload[..body]);
        if (stored != actual)
            throw new InvalidDataException(
                $"Ternary payload checksum mismatch: stored CRC-32 0x{stored:X8}, computed 0x{actual:X8} (corrupt or truncated).");

        byte codingByte = reader.ReadByte("coding");
        if (codingByte is not ((byte)TernaryPositionCoding.Rice or (byte)TernaryPositionCoding.Bitmap))
            throw new InvalidDataException($"Ternary payload has unknown position coding {codingByte}.");
        var coding = (TernaryPositionCoding)codingByte;
        int b = reader.ReadByte("rice parameter");
        if (b > RiceCoding.MaxParameter || (coding == TernaryPositionCoding.Bitmap && b != 0))
            throw new InvalidDataException($"Ternary payload has invalid Rice parameter {b} for coding {coding}.");
        uint n = reader.ReadVarUInt32("element count");
        uint k = reader.ReadVarUInt32("kept count");
        uint s = reader.ReadVarUInt32("scale count");
        if (n > Array.MaxLength)
            throw new InvalidDataException($"Ternary payload element count {n} exceeds the supported maximum {Array.MaxLength}.");
        if (k > n)
            throw new InvalidDataException($"Ternary payload keeps {k} elements out of {n}.");
        if (s == 0 || (n > 0 && s > n) || (n == 0 && s != 1))
            throw new InvalidDataException($"Ternary payload has {s} scales for {n} elements.");

        // Each scale needs at least 5 bytes (a length varint and an f32): refuse counts the payload cannot hold before allocating.
        if (s > (payload.Length - reader.Position) / 4)
            throw new InvalidDataException($"Ternary payload is truncated: {s} scales do not fit in {payload.Length} bytes.");
        int[] lengths;
        if (s > 1)
        {
            lengths = new int[s];
            long sum = 0;
            for (int i = 0; i < lengths.Length; i++)
            {
                uint len = reader.ReadVarUInt32("tensor lengths");
                if (len == 0 || len > n)
                    throw new InvalidDataException($"Ternary payload tensor {i} has invalid length {len}.");
                lengths[i] = (int)len;
                sum += len;
            }
            if (sum != n)
                throw new InvalidDataException($"Ternary payload tensor lengths sum to {sum}, expected the element count {n}.");
        }
        else
        {
            lengths = [(int)n];
        }
        var scaleBytes = reader.Take(4L * s, "scales");
        var scales = new float[s];
        for (int i = 0; i < scales.Length; i++)
        {
            scales[i] = BinaryPrimitives.ReadSingleLittleEndian(scaleBytes[(4 * i)..]);
            if (!float.IsFinite(scales[i]) || scales[i] < 0)
                throw new InvalidDataException($"Ternary payload scale {i} is {scales[i]}; scales must be finite and non-negative.");
        }
        uint positionBytes = reader.ReadVarUInt32("position stream length");
        if (coding == TernaryPositionCoding.Bitmap && positionBytes != (n + 7L) / 8)
            throw new InvalidDataException($"Ternary payload bitmap has {positionBytes} bytes, expected {(n + 7L) / 8} for {n} elements.");
        positionStream = reader.Take(positionBytes, "positions");
        signStream = reader.Take((k + 7L) / 8, "signs");
        if (reader.Position != body)
            throw new InvalidDataException(
                $"Ternary payload has {body - reader.Position} unexpected bytes before the checksum.");
        return new TernaryHeader(version, coding, b, (int)n, (int)k, scales, lengths, (int)positionBytes, payload.Length);
    }

    private static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> destination, float weight, bool accumulate)
    {
        var header = Parse(payload, out var positionStream, out var signStream);
        int n = header.ElementCount, k = header.KeptCount;
        if (destination.Length != n)
            throw new ArgumentException($"Destination has {destination.Length} elements; the payload decodes to {n}.", nameof(destination));

        int[] rented = ArrayPool<int>.Shared.Rent(Math.Max(k, 1));
        try
        {
            var positions = rented.AsSpan(0, k);
            ReadPositions(header, positionStream, positions);
            if ((k & 7) != 0 && (signStream[^1] >> (k & 7)) != 0)
                throw new InvalidDataException("Ternary payload sign stream has non-zero padding bits.");

            if (!accumulate) destination.Clear();
            var lengths = header.TensorLengths;
            var scales = header.Scales;
            int tensor = 0;
            long end = lengths[0];
            for (int i = 0; i < k; i++)
            {
                int p = positions[i];
                while (p >= end) end += lengths[++tensor];
                float magnitude = scales[tensor] * weight;
                float value = ((signStream[i >> 3] >> (i & 7)) & 1) != 0 ? -magnitude : magnitude;
                if (accumulate) destination[p] += value; else destination[p] = value;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    private static void ReadPositions(TernaryHeader header, ReadOnlySpan<byte> stream, Span<int> positions)
    {
        int n = header.ElementCount, k = header.KeptCount;
        if (header.Coding == TernaryPositionCoding.Rice)
        {
            var reader = new BitReader(stream, "positions");
            RiceCoding.Read(ref reader, header.RiceParameter, n, positions);
            if ((reader.Position + 7) / 8 != stream.Length)
                throw new InvalidDataException(
                    $"Ternary payload position stream has {stream.Length} bytes but its {k} Rice codes use {(reader.Position + 7) / 8}.");
            return;
        }
        int count = 0;
        for (int byteIndex = 0; byteIndex < stream.Length; byteIndex++)
        {
            int bits = stream[byteIndex];
            while (bits != 0)
            {
                int bit = System.Numerics.BitOperations.TrailingZeroCount(bits);
                int p = byteIndex * 8 + bit;
                if (p >= n)
                    throw new InvalidDataException($"Ternary payload bitmap marks position {p}, beyond the element count {n}.");
                if (count >= k)
                    throw new InvalidDataException($"Ternary payload bitmap marks more than the {k} kept positions.");
                positions[count++] = p;
                bits &= bits - 1;
            }
        }
        if (count != k)
            throw new InvalidDataException($"Ternary payload bitmap marks {count} positions, the header says {k}.");
    }
}
