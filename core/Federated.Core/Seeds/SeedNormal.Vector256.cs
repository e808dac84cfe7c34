using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // AVX2 path: the AVX-512 path at half width, 8 Philox blocks (32 normals) per iteration; used where AVX-512 is
    // absent and for the tail of 32..63 elements after the AVX-512 loop.

    private static int RunVector256(uint k0, uint k1, uint tensor, ref ulong element, ref float d, int i, int n, float scale, bool add)
    {
        if (n - i < 32) return i;
        Span<uint> keys = stackalloc uint[2 * Philox4x32.Rounds];
        RoundKeys(k0, k1, keys);
        var scaleV = Vector256.Create(scale);
        var tensorV = Vector256.Create(tensor);
        var domainV = Vector256.Create(DomainNormal);
        for (; n - i >= 32; i += 32, element += 32)
        {
            ulong block = element >> 2;
            var baseLo = Vector256.Create((uint)block);
            var c0 = baseLo + Vector256<uint>.Indices;
            // Carry into the high word where the low word wrapped (c0 < base ⇒ mask of all ones = −1).
            var c1 = Vector256.Create((uint)(block >> 32)) - Vector256.LessThan(c0, baseLo);
            var c2 = tensorV;
            var c3 = domainV;
            for (int r = 0; r < Philox4x32.Rounds; r++)
            {
                var (hi0, lo0) = MulHiLo(c0, Philox4x32.M0);
                var (hi1, lo1) = MulHiLo(c2, Philox4x32.M1);
                c0 = hi1 ^ c1 ^ Vector256.Create(keys[2 * r]);
                c2 = hi0 ^ c3 ^ Vector256.Create(keys[2 * r + 1]);
                c1 = lo1;
                c3 = lo0;
            }
            var r0 = Radius(c0);
            var r1 = Radius(c2);
            var (cos0, sin0) = SinCos(c1);
            var (cos1, sin1) = SinCos(c3);
            Transpose(r0 * cos0, r0 * sin0, r1 * cos1, r1 * sin1, out var o0, out var o1, out var o2, out var o3);
            ref float p = ref Unsafe.Add(ref d, i);
            if (add)
            {
                o0 = Vector256.LoadUnsafe(ref p, 0) + scaleV * o0;
                o1 = Vector256.LoadUnsafe(ref p, 8) + scaleV * o1;
                o2 = Vector256.LoadUnsafe(ref p, 16) + scaleV * o2;
                o3 = Vector256.LoadUnsafe(ref p, 24) + scaleV * o3;
            }
            o0.StoreUnsafe(ref p, 0);
            o1.StoreUnsafe(ref p, 8);
            o2.StoreUnsafe(ref p, 16);
            o3.StoreUnsafe(ref p, 24);
        }
        return i;
    }

    /// <summary>Per lane (hi, lo) of the 64-bit product a·m: vpmuludq on even lanes and on odd lanes shifted down.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<uint> Hi, Vector256<uint> Lo) MulHiLo(Vector256<uint> a, uint m)
    {
        var mv = Vector256.Create(m);
        var even = Avx2.Multiply(a, mv);
        var odd = Avx2.Multiply(Vector256.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
        var oddMask = Vector256.Create(0xFFFFFFFF00000000UL).AsUInt32();
        var hi = Vector256.ConditionalSelect(oddMask, odd.AsUInt32(), Vector256.ShiftRightLogical(even, 32).AsUInt32());
        return (hi, a * mv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Radius(Vector256<uint> x)
    {
        var u = Vector256.ConvertToSingle((Vector256.ShiftRightLogical(x, 8) | Vector256<uint>.One).AsInt32()) * Vector256.Create(TwoM24);
        var bits = u.AsInt32();
        var e = Vector256.ShiftRightArithmetic(bits - Vector256.Create(SqrtHalfBits), 23);
        var m = (bits - Vector256.ShiftLeft(e, 23)).AsSingle();
        var one = Vector256<float>.One;
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var p = Vector256.Create(L9);
        p = p * s2 + Vector256.Create(L7);
        p = p * s2 + Vector256.Create(L5);
        p = p * s2 + Vector256.Create(L3);
        var lnM = (s + s) + s * (s2 * p);
        var lnU = Vector256.ConvertToSingle(e) * Vector256.Create(Ln2) + lnM;
        return Vector256.Sqrt(lnU * Vector256.Create(-2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Cos, Vector256<float> Sin) SinCos(Vector256<uint> x)
    {
        var a = Vector256.ShiftRightLogical(x, 9).AsInt32();
        var q = Vector256.ShiftRightArithmetic(a + Vector256.Create(1 << 20), 21);
        var nInt = (Vector256.ShiftRightLogical(x, 8) | Vector256<uint>.One).AsInt32() - Vector256.ShiftLeft(q, 22);
        var f = Vector256.ConvertToSingle(nInt) * Vector256.Create(TwoM24);
        var f2 = f * f;
        var ps = Vector256.Create(S9);
        ps = ps * f2 + Vector256.Create(S7);
        ps = ps * f2 + Vector256.Create(S5);
        ps = ps * f2 + Vector256.Create(S3);
        ps = ps * f2 + Vector256.Create(S1);
        var sn = ps * f;
        var pc = Vector256.Create(C10);
        pc = pc * f2 + Vector256.Create(C8);
        pc = pc * f2 + Vector256.Create(C6);
        pc = pc * f2 + Vector256.Create(C4);
        pc = pc * f2 + Vector256.Create(C2);
        var cs = pc * f2 + Vector256<float>.One;
        var swap = Vector256.Equals(q & Vector256<int>.One, Vector256<int>.One).AsSingle();
        var cosV = Vector256.ConditionalSelect(swap, sn, cs);
        var sinV = Vector256.ConditionalSelect(swap, cs, sn);
        var two = Vector256.Create(2);
        cosV = (cosV.AsInt32() ^ Vector256.ShiftLeft((q + Vector256<int>.One) & two, 30)).AsSingle();
        sinV = (sinV.AsInt32() ^ Vector256.ShiftLeft(q & two, 30)).AsSingle();
        return (cosV, sinV);
    }

    /// <summary>zj[b] (j = lane, b = block of 8) → out[4b + j]: unpack 32-bit, unpack 64-bit, then 128-bit lane permutes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector256<float> z0, Vector256<float> z1, Vector256<float> z2, Vector256<float> z3,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3)
    {
        var a = Avx.UnpackLow(z0, z1);
        var b = Avx.UnpackHigh(z0, z1);
        var c = Avx.UnpackLow(z2, z3);
        var dd = Avx.UnpackHigh(z2, z3);
        var e = Avx.UnpackLow(a.AsDouble(), c.AsDouble()).AsSingle();   // blocks 0, 4
        var f = Avx.UnpackHigh(a.AsDouble(), c.AsDouble()).AsSingle();  // blocks 1, 5
        var g = Avx.UnpackLow(b.AsDouble(), dd.AsDouble()).AsSingle();  // blocks 2, 6
        var h = Avx.UnpackHigh(b.AsDouble(), dd.AsDouble()).AsSingle(); // blocks 3, 7
        o0 = Avx.Permute2x128(e, f, 0x20);                              // 0, 1
        o1 = Avx.Permute2x128(g, h, 0x20);                              // 2, 3
        o2 = Avx.Permute2x128(e, f, 0x31);                              // 4, 5
        o3 = Avx.Permute2x128(g, h, 0x31);                              // 6, 7
    }
}
