using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // 128-bit path (SSE2 on x64, AdvSimd on Arm64): 4 Philox blocks (16 normals) per iteration; the path of Arm edge
    // clients, and the tail of 16..31 elements after the wider loops. Only the widening multiply and the zips are
    // ISA-specific; the transform uses cross-platform Vector128 operators, lane by lane as the scalar definition.

    private static int RunVector128(uint k0, uint k1, uint tensor, ref ulong element, ref float d, int i, int n, float scale, bool add)
    {
        if (n - i < 16) return i;
        Span<uint> keys = stackalloc uint[2 * Philox4x32.Rounds];
        RoundKeys(k0, k1, keys);
        var scaleV = Vector128.Create(scale);
        var tensorV = Vector128.Create(tensor);
        var domainV = Vector128.Create(DomainNormal);
        for (; n - i >= 16; i += 16, element += 16)
        {
            ulong block = element >> 2;
            var baseLo = Vector128.Create((uint)block);
            var c0 = baseLo + Vector128<uint>.Indices;
            // Carry into the high word where the low word wrapped (c0 < base ⇒ mask of all ones = −1).
            var c1 = Vector128.Create((uint)(block >> 32)) - Vector128.LessThan(c0, baseLo);
            var c2 = tensorV;
            var c3 = domainV;
            for (int r = 0; r < Philox4x32.Rounds; r++)
            {
                var (hi0, lo0) = MulHiLo(c0, Philox4x32.M0);
                var (hi1, lo1) = MulHiLo(c2, Philox4x32.M1);
                c0 = hi1 ^ c1 ^ Vector128.Create(keys[2 * r]);
                c2 = hi0 ^ c3 ^ Vector128.Create(keys[2 * r + 1]);
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
                o0 = Vector128.LoadUnsafe(ref p, 0) + scaleV * o0;
                o1 = Vector128.LoadUnsafe(ref p, 4) + scaleV * o1;
                o2 = Vector128.LoadUnsafe(ref p, 8) + scaleV * o2;
                o3 = Vector128.LoadUnsafe(ref p, 12) + scaleV * o3;
            }
            o0.StoreUnsafe(ref p, 0);
            o1.StoreUnsafe(ref p, 4);
            o2.StoreUnsafe(ref p, 8);
            o3.StoreUnsafe(ref p, 12);
        }
        return i;
    }

    /// <summary>Per lane (hi, lo) of the 64-bit product a·m: pmuludq on even/odd lanes (x64) or umull + uzp2 (Arm64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<uint> Hi, Vector128<uint> Lo) MulHiLo(Vector128<uint> a, uint m)
    {
        var mv = Vector128.Create(m);
        Vector128<uint> hi;
        if (Sse2.IsSupported)
        {
            var even = Sse2.Multiply(a, mv);
            var odd = Sse2.Multiply(Vector128.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
            var oddMask = Vector128.Create(0xFFFFFFFF00000000UL).AsUInt32();
            hi = Vector128.ConditionalSelect(oddMask, odd.AsUInt32(), Vector128.ShiftRightLogical(even, 32).AsUInt32());
        }
        else
        {
            var lower = AdvSimd.MultiplyWideningLower(a.GetLower(), mv.GetLower());   // lanes 0, 1 as ulong
            var upper = AdvSimd.MultiplyWideningUpper(a, mv);                         // lanes 2, 3 as ulong
            hi = AdvSimd.Arm64.UnzipOdd(lower.AsUInt32(), upper.AsUInt32());
        }
        return (hi, a * mv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Radius(Vector128<uint> x)
    {
        var u = Vector128.ConvertToSingle((Vector128.ShiftRightLogical(x, 8) | Vector128<uint>.One).AsInt32()) * Vector128.Create(TwoM24);
        var bits = u.AsInt32();
        var e = Vector128.ShiftRightArithmetic(bits - Vector128.Create(SqrtHalfBits), 23);
        var m = (bits - Vector128.ShiftLeft(e, 23)).AsSingle();
        var one = Vector128<float>.One;
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var p = Vector128.Create(L9);
        p = p * s2 + Vector128.Create(L7);
        p = p * s2 + Vector128.Create(L5);
        p = p * s2 + Vector128.Create(L3);
        var lnM = (s + s) + s * (s2 * p);
        var lnU = Vector128.ConvertToSingle(e) * Vector128.Create(Ln2) + lnM;
        return Vector128.Sqrt(lnU * Vector128.Create(-2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Cos, Vector128<float> Sin) SinCos(Vector128<uint> x)
    {
        var a = Vector128.ShiftRightLogical(x, 9).AsInt32();
        var q = Vector128.ShiftRightArithmetic(a + Vector128.Create(1 << 20), 21);
        var nInt = (Vector128.ShiftRightLogical(x, 8) | Vector128<uint>.One).AsInt32() - Vector128.ShiftLeft(q, 22);
        var f = Vector128.ConvertToSingle(nInt) * Vector128.Create(TwoM24);
        var f2 = f * f;
        var ps = Vector128.Create(S9);
        ps = ps * f2 + Vector128.Create(S7);
        ps = ps * f2 + Vector128.Create(S5);
        ps = ps * f2 + Vector128.Create(S3);
        ps = ps * f2 + Vector128.Create(S1);
        var sn = ps * f;
        var pc = Vector128.Create(C10);
        pc = pc * f2 + Vector128.Create(C8);
        pc = pc * f2 + Vector128.Create(C6);
        pc = pc * f2 + Vector128.Create(C4);
        pc = pc * f2 + Vector128.Create(C2);
        var cs = pc * f2 + Vector128<float>.One;
        var swap = Vector128.Equals(q & Vector128<int>.One, Vector128<int>.One).AsSingle();
        var cosV = Vector128.ConditionalSelect(swap, sn, cs);
        var sinV = Vector128.ConditionalSelect(swap, cs, sn);
        var two = Vector128.Create(2);
        cosV = (cosV.AsInt32() ^ Vector128.ShiftLeft((q + Vector128<int>.One) & two, 30)).AsSingle();
        sinV = (sinV.AsInt32() ^ Vector128.ShiftLeft(q & two, 30)).AsSingle();
        return (cosV, sinV);
    }

    /// <summary>zj[b] (j = lane, b = block of 4) → out[4b + j]: a 4×4 transpose by 32-bit then 64-bit interleaves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector128<float> z0, Vector128<float> z1, Vector128<float> z2, Vector128<float> z3,
        out Vector128<float> o0, out Vector128<float> o1, out Vector128<float> o2, out Vector128<float> o3)
    {
        if (Sse2.IsSupported)
        {
            var a = Sse.UnpackLow(z0, z1);
            var b = Sse.UnpackHigh(z0, z1);
            var c = Sse.UnpackLow(z2, z3);
            var d = Sse.UnpackHigh(z2, z3);
            o0 = Sse2.UnpackLow(a.AsDouble(), c.AsDouble()).AsSingle();
            o1 = Sse2.UnpackHigh(a.AsDouble(), c.AsDouble()).AsSingle();
            o2 = Sse2.UnpackLow(b.AsDouble(), d.AsDouble()).AsSingle();
            o3 = Sse2.UnpackHigh(b.AsDouble(), d.AsDouble()).AsSingle();
        }
        else
        {
            var a = AdvSimd.Arm64.ZipLow(z0, z1);
            var b = AdvSimd.Arm64.ZipHigh(z0, z1);
            var c = AdvSimd.Arm64.ZipLow(z2, z3);
            var d = AdvSimd.Arm64.ZipHigh(z2, z3);
            o0 = AdvSimd.Arm64.ZipLow(a.AsUInt64(), c.AsUInt64()).AsSingle();
            o1 = AdvSimd.Arm64.ZipHigh(a.AsUInt64(), c.AsUInt64()).AsSingle();
            o2 = AdvSimd.Arm64.ZipLow(b.AsUInt64(), d.AsUInt64()).AsSingle();
            o3 = AdvSimd.Arm64.ZipHigh(b.AsUInt64(), d.AsUInt64()).AsSingle();
        }
    }
}
