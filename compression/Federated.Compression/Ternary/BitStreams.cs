using System.Buffers.Binary;
using System.Numerics;

namespace Federated.Compression.Ternary;

/// <summary>Writes bits LSB-first: the first bit written is bit 0 of byte 0. The caller sizes the span exactly.</summary>
internal ref struct BitWriter
{
    private readonly Span<byte> _bytes;
    private ulong _buffer;
    private int _count;
    private int _bytePos;

    public BitWriter(Span<byte> bytes)
    {
        _bytes = bytes;
        _bytes.Clear();
    }

    /// <summary>Appends the low <paramref name="bitCount"/> (0..32) bits of <paramref name="value"/>.</summary>
    public void Write(uint value, int bitCount)
    {
        if (bitCount == 0) return;
        ulong v = bitCount == 32 ? value : value & ((1u << bitCount) - 1);
        _buffer |= v << _count;
        _count += bitCount;
        while (_count >= 8)
        {
            _bytes[_bytePos++] = (byte)_buffer;
            _buffer >>= 8;
            _count -= 8;
        }
    }

    /// <summary>Appends <paramref name="ones"/> one-bits then a zero bit (unary code of the Rice quotient).</summary>
    public void WriteUnary(long ones)
    {
        while (ones >= 32) { Write(uint.MaxValue, 32); ones -= 32; }
        Write((1u << (int)ones) - 1, (int)ones + 1);
    }

    /// <summary>Flushes a partial last byte (its high bits stay zero).</summary>
    public void Flush()
    {
        if (_count > 0) _bytes[_bytePos++] = (byte)_buffer;
        _buffer = 0;
        _count = 0;
    }
}

/// <summary>Reads bits LSB-first. Reading past the end throws <see cref="InvalidDataException"/> naming the stream.</summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly string _name;
    private ulong _buffer;
    private int _count;
    private int _bytePos;

    public BitReader(ReadOnlySpan<byte> bytes, string name)
    {
        _bytes = bytes;
        _name = name;
    }

    /// <summary>Bits consumed so far.</summary>
    public readonly long Position => (long)_bytePos * 8 - _count;

    /// <summary>Reads <paramref name="bitCount"/> (0..32) bits.</summary>
    public uint Read(int bitCount)
    {
        if (bitCount == 0) return 0;
        Fill(bitCount);
        uint v = (uint)(_buffer & (bitCount == 32 ? uint.MaxValue : (1ul << bitCount) - 1));
        _buffer >>= bitCount;
        _count -= bitCount;
        return v;
    }

    /// <summary>Counts one-bits up to and including the terminating zero bit; returns the count of ones.</summary>
    public long ReadUnary()
    {
        long ones = 0;
        while (true)
        {
            if (_count == 0) Fill(1);
            // Ones at the bottom of the buffer: trailing zeros of the complement, limited to the valid bits.
            int run = BitOperations.TrailingZeroCount(~_buffer);
            if (run < _count)
            {
                ones += run;
                _buffer >>= run + 1;
                _count -= run + 1;
                return ones;
            }
            ones += _count;
            _buffer = 0;
            _count = 0;
        }
    }

    private void Fill(int needed)
    {
        while (_count < needed)
        {
            if (_bytePos >= _bytes.Length)
                throw new InvalidDataException($"Ternary payload: the {_name} stream is truncated (needed more than {_bytes.Length} bytes).");
            _buffer |= (ulong)_bytes[_bytePos++] << _count;
            _count += 8;
        }
    }
}

/// <summary>Varint (LEB128) writing: 7 bits per byte, low groups first, high bit set on all but the last byte.</summary>
internal static class VarInt
{
    public static int Size(uint value)
    {
        int size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    public static int Write(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80) { destination[i++] = (byte)(value | 0x80); value >>= 7; }
        destination[i++] = (byte)value;
        return i;
    }
}

/// <summary>Little-endian reads over a payload with bounds checks that throw <see cref="InvalidDataException"/>.</summary>
internal ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private int _pos;

    public ByteReader(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public readonly int Position => _pos;

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public byte ReadByte(string field) => Take(1, field)[0];

    public float ReadSingle(string field) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, field));

    /// <summary>LEB128 unsigned varint of at most 5 bytes, minimal form (no redundant trailing zero byte).</summary>
    public uint ReadVarUInt32(string field)
    {
        ulong value = 0;
        for (int i = 0; i < 5; i++)
        {
            byte b = Take(1, field)[0];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (value > uint.MaxValue || (i > 0 && b == 0))
                    throw new InvalidDataException($"Ternary payload field '{field}' is not a valid minimal 32-bit varint.");
                return (uint)value;
            }
        }
        throw new InvalidDataException($"Ternary payload field '{field}' is a varint longer than 5 bytes.");
    }

    public ReadOnlySpan<byte> Take(long count, string field)
    {
        if (count < 0 || count > _bytes.Length - _pos)
            throw new InvalidDataException(
                $"Ternary payload is truncated: field '{field}' needs {count} bytes at offset {_pos}, {_bytes.Length - _pos} remain.");
        var s = _bytes.Slice(_pos, (int)count);
        _pos += (int)count;
        return s;
    }
}
