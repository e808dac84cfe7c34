using System.Runtime.CompilerServices;

namespace Federated.Core.Seeds;

/// <summary>
/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3" (SC'11), as implemented in Random123 (<c>philox4x32_R</c> with R = 10). One call maps a 128-bit counter and a
/// 64-bit key to 128 pseudo-random bits; it is a bijection of the counter for a fixed key.
/// Round: (hi0, lo0) = M0·c0, (hi1, lo1) = M1·c2 (32×32→64), c ← (hi1 ⊕ c1 ⊕ k0, lo1, hi0 ⊕ c3 ⊕ k1, lo0);
/// between rounds the key is bumped by the Weyl constants (k0 += W0, k1 += W1). See docs/seed-protocol.md.
/// </summary>
public static class Philox4x32
{
    /// <summary>Multiplier of lane 0 (PHILOX_M4x32_0).</summary>
    public const uint M0 = 0xD2511F53;
    /// <summary>Multiplier of lane 2 (PHILOX_M4x32_1).</summary>
    public const uint M1 = 0xCD9E8D57;
    /// <summary>Key bump of k0 (PHILOX_W32_0, golden ratio).</summary>
    public const uint W0 = 0x9E3779B9;
    /// <summary>Key bump of k1 (PHILOX_W32_1, sqrt(3) − 1).</summary>
    public const uint W1 = 0xBB67AE85;
    /// <summary>Rounds used by the seed protocol.</summary>
    public const int Rounds = 10;

    /// <summary>Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); the four output words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1) =>
        Block(c0, c1, c2, c3, k0, k1, Rounds);

    /// <summary>Philox4x32 with a chosen number of rounds (the protocol uses <see cref="Rounds"/>; the published
    /// known-answer vectors also cover 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
        }
        return (c0, c1, c2, c3);
    }
}
