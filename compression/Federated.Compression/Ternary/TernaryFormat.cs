namespace Federated.Compression.Ternary;

/// <summary>How the kept positions are coded in a ternary payload.</summary>
public enum TernaryPositionCoding : byte
{
    /// <summary>Golomb–Rice codes of the gaps g_i = p_i − p_{i−1} − 1 (p_{−1} = −1): unary quotient g≫b as ones and a
    /// terminating zero, then the low b bits of g.</summary>
    Rice = 1,

    /// <summary>One bit per element, bit i set when element i is kept (used when smaller than Rice, at high density).</summary>
    Bitmap = 2,
}

/// <summary>
/// The parsed header of a ternary payload (see docs/compeft.md for the byte layout).
/// </summary>
/// <param name="Version">Format version (1).</param>
/// <param name="Coding">Position coding.</param>
/// <param name="RiceParameter">Rice parameter b (0 with a bitmap).</param>
/// <param name="ElementCount">n, the dense length.</param>
/// <param name="KeptCount">k, the number of non-zeros.</param>
/// <param name="Scales">One scale per tensor (length 1 for a per-update scale).</param>
/// <param name="TensorLengths">Tensor lengths (sum n); a single entry n for a per-update scale.</param>
/// <param name="PositionBytes">Bytes of the position stream.</param>
/// <param name="TotalBytes">Bytes of the whole payload including header and checksum.</param>
public sealed record TernaryHeader(
    int Version,
    TernaryPositionCoding Coding,
    int RiceParameter,
    int ElementCount,
    int KeptCount,
    IReadOnlyList<float> Scales,
    IReadOnlyList<int> TensorLengths,
    int PositionBytes,
    int TotalBytes);

/// <summary>Constants of the version-1 layout (integers little-endian, "var" = LEB128 unsigned varint):
/// magic "TRNY" | u8 version | u8 coding | u8 rice b | var n | var k | var s | (s &gt; 1: s × var tensor length) |
/// s × f32 scale | var P | P bytes positions | ⌈k/8⌉ bytes signs | u32 CRC-32 of all preceding bytes.</summary>
internal static class TernaryFormat
{
    public const uint Magic = 0x594E5254; // "TRNY" read little-endian
    public const byte Version = 1;
    public const int ChecksumBytes = 4;

    /// <summary>Smallest possible payload (n = k = 0): magic, version, coding, b, three 1-byte varints, scale, P, CRC.</summary>
    public const int MinimumBytes = 4 + 3 + 3 + 4 + 1 + ChecksumBytes;

    /// <summary>Header bytes before the position stream.</summary>
    public static int HeaderBytes(int n, int k, int[] lengths, int positionBytes)
    {
        int s = lengths.Length;
        int bytes = 7 + VarInt.Size((uint)n) + VarInt.Size((uint)k) + VarInt.Size((uint)s) + 4 * s + VarInt.Size((uint)positionBytes);
        if (s > 1)
            foreach (int len in lengths) bytes += VarInt.Size((uint)len);
        return bytes;
    }
}
