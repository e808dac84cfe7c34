using System.Runtime.CompilerServices;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // The normal transform of seed protocol v1 (docs/seed-protocol.md §4). Only IEEE float32 +, −, ×, ÷ and sqrt,
    // each rounded to nearest-even, in exactly the order written; no fused multiply-add, no MathF transcendental.
    // Every vector path evaluates the same expression tree lane by lane, so all paths agree bit for bit.

    /// <summary>2^−24: maps the odd integer k ∈ [1, 2^24 − 1] to u = k·2^−24 ∈ (0, 1) exactly.</summary>
    internal const float TwoM24 = 5.9604645E-08f;               // 0x33800000
    /// <summary>Bits of float32 √½: log reduction splits u = 2^e·m with m ∈ [√½, √2).</summary>
    internal const int SqrtHalfBits = 0x3F3504F3;
    internal const float Ln2 = 0.6931472f;                       // 0x3F317218 = f32(ln 2)
    // ln m = 2s + s·(s²·P(s²)), s = (m − 1)/(m + 1), P = L3 + s²(L5 + s²(L7 + s²·L9)): atanh series, |s| ≤ 0.1716,
    // truncation error ≤ s¹⁰/11 ≈ 2e−9 relative.
    internal const float L3 = 0.6666667f;                        // 0x3F2AAAAB = f32(2/3)
    internal const float L5 = 0.4f;                              // 0x3ECCCCCD = f32(2/5)
    internal const float L7 = 0.2857143f;                        // 0x3E924925 = f32(2/7)
    internal const float L9 = 0.22222222f;                       // 0x3E638E39 = f32(2/9)
    // sin(2πf) = f·(S1 + f²(S3 + f²(S5 + f²(S7 + f²·S9)))), cos(2πf) = 1 + f²(C2 + f²(C4 + f²(C6 + f²(C8 + f²·C10)))),
    // Taylor coefficients in f (turns), |f| ≤ 1/8; truncation ≤ 2.2e−9 (sin, relative), 1.1e−10 (cos).
    internal const float S1 = 6.2831855f;                        // 0x40C90FDB
    internal const float S3 = -41.341702f;                       // 0xC2255DE7
    internal const float S5 = 81.60525f;                         // 0x42A335E3
    internal const float S7 = -76.70586f;                        // 0xC2996966
    internal const float S9 = 42.058693f;                        // 0x42283C1A
    internal const float C2 = -19.739208f;                       // 0xC19DE9E6
    internal const float C4 = 64.93939f;                         // 0x4281E0F8
    internal const float C6 = -85.45682f;                        // 0xC2AAE9E4
    internal const float C8 = 60.24464f;                         // 0x4270FA83
    internal const float C10 = -26.426256f;                      // 0xC1D368F9

    /// <summary>r = sqrt(−2·ln u), u = ((x >> 8) | 1)·2^−24: the Box–Muller radius of one 32-bit word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Radius(uint x)
    {
        float u = (int)((x >> 8) | 1u) * TwoM24;
        int bits = BitConverter.SingleToInt32Bits(u);
        int e = (bits - SqrtHalfBits) >> 23;
        float m = BitConverter.Int32BitsToSingle(bits - (e << 23));
        float s = (m - 1f) / (m + 1f);
        float s2 = s * s;
        float p = L9;
        p = p * s2 + L7;
        p = p * s2 + L5;
        p = p * s2 + L3;
        float lnM = (s + s) + s * (s2 * p);
        float lnU = e * Ln2 + lnM;
        return MathF.Sqrt(lnU * -2f);
    }

    /// <summary>(cos 2πu, sin 2πu), u = ((x >> 8) | 1)·2^−24, by reduction to the nearest quarter turn q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Cos, float Sin) SinCos(uint x)
    {
        int a = (int)(x >> 9);
        int q = (a + (1 << 20)) >> 21;                 // round(4u) ∈ {0..4}; no ties (u is an odd multiple of 2^−24)
        int n = (int)((x >> 8) | 1u) - (q << 22);      // (u − q/4)·2^24, |n| < 2^21
        float f = n * TwoM24;
        float f2 = f * f;
        float ps = S9;
        ps = ps * f2 + S7;
        ps = ps * f2 + S5;
        ps = ps * f2 + S3;
        ps = ps * f2 + S1;
        float sn = ps * f;
        float pc = C10;
        pc = pc * f2 + C8;
        pc = pc * f2 + C6;
        pc = pc * f2 + C4;
        pc = pc * f2 + C2;
        float cs = pc * f2 + 1f;
        // Quadrant q: (cos, sin) = (c, s), (−s, c), (−c, −s), (s, −c); sign flips are exact.
        float cosV = (q & 1) != 0 ? sn : cs;
        float sinV = (q & 1) != 0 ? cs : sn;
        cosV = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(cosV) ^ (((q + 1) & 2) << 30));
        sinV = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(sinV) ^ ((q & 2) << 30));
        return (cosV, sinV);
    }

    /// <summary>The four normals of one Philox block: (r(X0)·cos(X1), r(X0)·sin(X1), r(X2)·cos(X3), r(X2)·sin(X3)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Z0, float Z1, float Z2, float Z3) BlockNormals(uint k0, uint k1, uint tensor, ulong block)
    {
        var (x0, x1, x2, x3) = Philox4x32.Block((uint)block, (uint)(block >> 32), tensor, DomainNormal, k0, k1);
        float r0 = Radius(x0), r1 = Radius(x2);
        var (c0, s0) = SinCos(x1);
        var (c1, s1) = SinCos(x3);
        return (r0 * c0, r0 * s0, r1 * c1, r1 * s1);
    }
}
