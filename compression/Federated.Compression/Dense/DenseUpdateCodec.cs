using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Federated.Compression.Ternary;

namespace Federated.Compression.Dense;

/// <summary>
/// The uncompressed counterpart of the ternary codec, for plain FedAvg-LoRA (ComPEFT with density 1 / --uncompressed)
/// and the server's dense downlink: n float32 values as they are.
/// Layout (little-endian): magic <c>46 33 32 55</c> ("F32U") | version u8 = 1 | n u32 | n × f32 | CRC-32 (zlib) of
/// every preceding byte. Size = 13 + 4n bytes. Non-finite values are refused on both sides.
/// </summary>
public static class DenseUpdateCodec
{
    public const uint Magic = 0x55323346; // "F32U" read little-endian
    public const byte Version = 1;
    public const int OverheadBytes = 4 + 1 + 4 + 4;

    /// <summary>Payload size for n values.</summary>
    public static long Size(int elementCount) => OverheadBytes + 4L * elementCount;

    /// <summary>True when the payload starts with this codec's magic (it may still be malformed).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> payload) =>
        payload.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(payload) == Magic;

    /// <summary>Serializes <paramref name="values"/> (finite float32).</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static byte[] Encode(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"Update element {i} is {values[i]}; a dense update must be finite.", nameof(values));
        var payload = new byte[Size(values.Length)];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], values.Length);
        var body = span.Slice(9, 4 * values.Length);
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values).CopyTo(body);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], values[i]);
        int end = 9 + body.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[end..], Crc32.Compute(span[..end]));
        return payload;
    }

    /// <summary>Checks magic, version, length and checksum; returns n.</summary>
    /// <exception cref="InvalidDataException">One sentence naming what is wrong.</exception>
    public static int ReadElementCount(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < OverheadBytes)
            throw new InvalidDataException($"Dense update is truncated: {payload.Length} bytes, at least {OverheadBytes} are needed.");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (magic != Magic)
            throw new InvalidDataException($"Not a dense update: magic 0x{magic:X8}, expected 0x{Magic:X8} (\"F32U\").");
        if (payload[4] != Version)
            throw new InvalidDataException($"Unsupported dense update version {payload[4]}; this build reads version {Version}.");
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(payload[5..]);
        if (n > (uint)(Array.MaxLength / 4) || payload.Length != Size((int)n))
            throw new InvalidDataException($"Dense update declares {n} values but has {payload.Length} bytes (expected 13 + 4·n).");
        int end = payload.Length - 4;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(payload[end..]);
        uint actual = Crc32.Compute(payload[..end]);
        if (stored != actual)
            throw new InvalidDataException($"Dense update checksum mismatch: stored CRC-32 0x{stored:X8}, computed 0x{actual:X8}.");
        return (int)n;
    }

    /// <summary>Decodes into a new array.</summary>
    public static float[] Decode(ReadOnlySpan<byte> payload)
    {
        var values = new float[ReadElementCount(payload)];
        DecodeCore(payload, values, 1f, accumulate: false);
        return values;
    }

    /// <summary>accumulator += weight·values.</summary>
    public static void DecodeAccumulate(ReadOnlySpan<byte> payload, float weight, Span<float> accumulator)
    {
        int n = ReadElementCount(payload);
        if (accumulator.Length != n)
            throw new ArgumentException($"Accumulator has {accumulator.Length} elements; the payload decodes to {n}.", nameof(accumulator));
        DecodeCore(payload, accumulator, weight, accumulate: true);
    }

    private static void DecodeCore(ReadOnlySpan<byte> payload, Span<float> destination, float weight, bool accumulate)
    {
        var body = payload.Slice(9, 4 * destination.Length);
        for (int i = 0; i < destination.Length; i++)
        {
            float v = BinaryPrimitives.ReadSingleLittleEndian(body[(4 * i)..]);
            if (!float.IsFinite(v)) throw new InvalidDataException($"Dense update element {i} is {v}; values must be finite.");
            destination[i] = accumulate ? destination[i] + weight * v : v;
        }
    }
}
