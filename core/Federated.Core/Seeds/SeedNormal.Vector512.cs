using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // AVX-512 path: 16 Philox blocks (64 normals) per iteration in structure-of-arrays form, the 32×32→64 products by
    // vpmuludq on even and odd lanes; the transform is the scalar expression tree lane by lane; a 4×16 transpose puts
    // the normals back in element order (4b + lane). Where the time goes: ~60% Philox, ~35% log/sincos, ~5% shuffles.

    private static int RunVector512(uint k0, uint k1, uint tensor, ref ulong element, ref float d, int i, int n, float scale, bool add)
    {
        if (n - i < 64) return i;
        Span<uint> keys = stackalloc uint[2 * Philox4x32.Rounds];
        RoundKeys(k0, k1, keys);
        var scaleV = Vector512.Create(scale);
        var tensorV = Vector512.Create(tensor);
        var domainV = Vector512.Create(DomainNormal);
        for (; n - i >= 64; i += 64, element += 64)
        {
            ulong block = element >> 2;
            var baseLo = Vector512.Create((uint)block);
            var c0 = baseLo + Vector512<uint>.Indices;
            // Carry into the high word where the low word wrapped (c0 < base ⇒ mask of all ones = −1).
            var c1 = Vector512.Create((uint)(block >> 32)) - Vector512.LessThan(c0, baseLo);
            var c2 = tensorV;
            var c3 = domainV;
            for (int r = 0; r < Philox4x32.Rounds; r++)
            {
                var (hi0, lo0) = MulHiLo(c0, Philox4x32.M0);
                var (hi1, lo1) = MulHiLo(c2, Philox4x32.M1);
                c0 = hi1 ^ c1 ^ Vector512.Create(keys[2 * r]);
                c2 = hi0 ^ c3 ^ Vector512.Create(keys[2 * r + 1]);
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
                o0 = Vector512.LoadUnsafe(ref p, 0) + scaleV * o0;
                o1 = Vector512.LoadUnsafe(ref p, 16) + scaleV * o1;
                o2 = Vector512.LoadUnsafe(ref p, 32) + scaleV * o2;
                o3 = Vector512.LoadUnsafe(ref p, 48) + scaleV * o3;
            }
            o0.StoreUnsafe(ref p, 0);
            o1.StoreUnsafe(ref p, 16);
            o2.StoreUnsafe(ref p, 32);
            o3.StoreUnsafe(ref p, 48);
        }
        return i;
    }

    /// <summary>Round keys: (k0 + r·W0, k1 + r·W1) for r = 0..9, the Philox key schedule.</summary>
    private static void RoundKeys(uint k0, uint k1, Span<uint> keys)
    {
        for (int r = 0; r < Philox4x32.Rounds; r++)
        {
            keys[2 * r] = k0;
            keys[2 * r + 1] = k1;
            k0 += Philox4x32.W0;
            k1 += Philox4x32.W1;
        }
    }

    /// <summary>Per lane (hi, lo) of the 64-bit product a·m: vpmuludq on even lanes and on odd lanes shifted down.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<uint> Hi, Vector512<uint> Lo) MulHiLo(Vector512<uint> a, uint m)
    {
        var mv = Vector512.Create(m);
        var even = Avx512F.Multiply(a, mv);
        var odd = Avx512F.Multiply(Vector512.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
        var oddMask = Vector512.Create(0xFFFFFFFF00000000UL).AsUInt32();
        var hi = Vector512.ConditionalSelect(oddMask, odd.AsUInt32(), Vector512.ShiftRightLogical(even, 32).AsUInt32());
        return (hi, a * mv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Radius(Vector512<uint> x)
    {
        var u = Vector512.ConvertToSingle((Vector512.ShiftRightLogical(x, 8) | Vector512<uint>.One).AsInt32()) * Vector512.Create(TwoM24);
        var bits = u.AsInt32();
        var e = Vector512.ShiftRightArithmetic(bits - Vector512.Create(SqrtHalfBits), 23);
        var m = (bits - Vector512.ShiftLeft(e, 23)).AsSingle();
        var one = Vector512<float>.One;
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var p = Vector512.Create(L9);
        p = p * s2 + Vector512.Create(L7);
        p = p * s2 + Vector512.Create(L5);
        p = p * s2 + Vector512.Create(L3);
        var lnM = (s + s) + s * (s2 * p);
        var lnU = Vector512.ConvertToSingle(e) * Vector512.Create(Ln2) + lnM;
        return Vector512.Sqrt(lnU * Vector512.Create(-2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Cos, Vector512<float> Sin) SinCos(Vector512<uint> x)
    {
        var a = Vector512.ShiftRightLogical(x, 9).AsInt32();
        var q = Vector512.ShiftRightArithmetic(a + Vector512.Create(1 << 20), 21);
        var nInt = (Vector512.ShiftRightLogical(x, 8) | Vector512<uint>.One).AsInt32() - Vector512.ShiftLeft(q, 22);
        var f = Vector512.ConvertToSingle(nInt) * Vector512.Create(TwoM24);
        var f2 = f * f;
        var ps = Vector512.Create(S9);
        ps = ps * f2 + Vector512.Create(S7);
        ps = ps * f2 + Vector512.Create(S5);
        ps = ps * f2 + Vector512.Create(S3);
        ps = ps * f2 + Vector512.Create(S1);
        var sn = ps * f;
        var pc = Vector512.Create(C10);
        pc = pc * f2 + Vector512.Create(C8);
        pc = pc * f2 + Vector512.Create(C6);
        pc = pc * f2 + Vector512.Create(C4);
        pc = pc * f2 + Vector512.Create(C2);
        var cs = pc * f2 + Vector512<float>.One;
        var swap = Vector512.Equals(q & Vector512<int>.One, Vector512<int>.One).AsSingle();
        var cosV = Vector512.ConditionalSelect(swap, sn, cs);
        var sinV = Vector512.ConditionalSelect(swap, cs, sn);
        var two = Vector512.Create(2);
        cosV = (cosV.AsInt32() ^ Vector512.ShiftLeft((q + Vector512<int>.One) & two, 30)).AsSingle();
        sinV = (sinV.AsInt32() ^ Vector512.ShiftLeft(q & two, 30)).AsSingle();
        return (cosV, sinV);
    }

    /// <summary>zj[b] (j = lane, b = block of 16) → out[4b + j]: unpack 32-bit, unpack 64-bit, then 128-bit lane shuffles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector512<float> z0, Vector512<float> z1, Vector512<float> z2, Vector512<float> z3,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        var a = Avx512F.UnpackLow(z0, z1);
        var b = Avx512F.UnpackHigh(z0, z1);
        var c = Avx512F.UnpackLow(z2, z3);
        var dd = Avx512F.UnpackHigh(z2, z3);
        var e = Avx512F.UnpackLow(a.AsDouble(), c.AsDouble()).AsSingle();   // blocks 0, 4, 8, 12
        var f = Avx512F.UnpackHigh(a.AsDouble(), c.AsDouble()).AsSingle();  // blocks 1, 5, 9, 13
        var g = Avx512F.UnpackLow(b.AsDouble(), dd.AsDouble()).AsSingle();  // blocks 2, 6, 10, 14
        var h = Avx512F.UnpackHigh(b.AsDouble(), dd.AsDouble()).AsSingle(); // blocks 3, 7, 11, 15
        var t0 = Avx512F.Shuffle4x128(e, f, 0x88);                          // 0, 8, 1, 9
        var t1 = Avx512F.Shuffle4x128(g, h, 0x88);                          // 2, 10, 3, 11
        var t2 = Avx512F.Shuffle4x128(e, f, 0xDD);                          // 4, 12, 5, 13
        var t3 = Avx512F.Shuffle4x128(g, h, 0xDD);                          // 6, 14, 7, 15
        o0 = Avx512F.Shuffle4x128(t0, t1, 0x88);
        o1 = Avx512F.Shuffle4x128(t2, t3, 0x88);
        o2 = Avx512F.Shuffle4x128(t0, t1, 0xDD);
        o3 = Avx512F.Shuffle4x128(t2, t3, 0xDD);
    }
}
