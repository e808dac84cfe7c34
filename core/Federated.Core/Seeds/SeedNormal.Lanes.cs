using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // The vector paths: one implementation, RunLanes, instantiated for 128-, 256- and 512-bit vectors. Each iteration
    // runs 4·W/4 Philox blocks (W floats per vector, so 4W normals) in structure-of-arrays form, the 32×32→64
    // products by the ISA's widening multiply on even and odd lanes; the transform is the scalar expression tree lane
    // by lane (SeedNormal.Transform.cs), so every width agrees with the scalar path bit for bit; a 4×W transpose puts
    // the normals back in element order (4b + lane). Where the time goes (AVX-512): ~60% Philox, ~35% log/sincos, ~5%
    // shuffles. Only ILanes' MulHiLo and Transpose are ISA-specific (SeedNormal.Widths.cs); the JIT specialises
    // RunLanes per width (struct type arguments), so the generic form costs nothing at run time.

    /// <summary>The vector operations the normal transform needs, at one width: TU/TI/TF are the uint, int and float
    /// vectors. Names carry the element type (AddU, AddI, Add) because TU, TI and TF may not share overloads.</summary>
    private interface ILanes<TU, TI, TF>
    {
        /// <summary>Floats per vector.</summary>
        static abstract int Width { get; }

        static abstract TU U(uint value);
        static abstract TU Indices { get; }
        static abstract TU AddU(TU a, TU b);
        static abstract TU SubU(TU a, TU b);
        static abstract TU XorU(TU a, TU b);
        static abstract TU OrU(TU a, TU b);
        static abstract TU LessThanU(TU a, TU b);
        static abstract TU Shr(TU a, int bits);
        /// <summary>Per lane (hi, lo) of the 64-bit product a·m.</summary>
        static abstract (TU Hi, TU Lo) MulHiLo(TU a, uint m);
        static abstract TI AsInt(TU a);

        static abstract TI I(int value);
        static abstract TI AddI(TI a, TI b);
        static abstract TI SubI(TI a, TI b);
        static abstract TI AndI(TI a, TI b);
        static abstract TI XorI(TI a, TI b);
        static abstract TI EqualsI(TI a, TI b);
        static abstract TI Shl(TI a, int bits);
        static abstract TI Sar(TI a, int bits);
        static abstract TF ToFloat(TI a);
        static abstract TF FromBits(TI a);
        static abstract TI Bits(TF a);

        static abstract TF F(float value);
        static abstract TF Add(TF a, TF b);
        static abstract TF Sub(TF a, TF b);
        static abstract TF Mul(TF a, TF b);
        static abstract TF Div(TF a, TF b);
        static abstract TF Sqrt(TF a);
        static abstract TF Select(TF mask, TF whenSet, TF whenClear);
        static abstract TF Load(ref float p, int offset);
        static abstract void Store(TF value, ref float p, int offset);
        /// <summary>zj[b] (j = lane of a block, b = block) → out[4b + j].</summary>
        static abstract void Transpose(TF z0, TF z1, TF z2, TF z3, out TF o0, out TF o1, out TF o2, out TF o3);
    }

    /// <summary>Whole groups of 4·Width elements from <paramref name="i"/>; returns where it stopped.</summary>
    private static int RunLanes<L, TU, TI, TF>(uint k0, uint k1, uint tensor, ref ulong element, ref float d, int i, int n, float scale, bool add)
        where L : struct, ILanes<TU, TI, TF>
    {
        int w = L.Width, step = 4 * L.Width;
        if (n - i < step) return i;
        Span<uint> keys = stackalloc uint[2 * Philox4x32.Rounds];
        RoundKeys(k0, k1, keys);
        var scaleV = L.F(scale);
        var tensorV = L.U(tensor);
        var domainV = L.U(DomainNormal);
        for (; n - i >= step; i += step, element += (ulong)step)
        {
            ulong block = element >> 2;
            var baseLo = L.U((uint)block);
            var c0 = L.AddU(baseLo, L.Indices);
            // Carry into the high word where the low word wrapped (c0 < base ⇒ mask of all ones = −1).
            var c1 = L.SubU(L.U((uint)(block >> 32)), L.LessThanU(c0, baseLo));
            var c2 = tensorV;
            var c3 = domainV;
            for (int r = 0; r < Philox4x32.Rounds; r++)
            {
                var (hi0, lo0) = L.MulHiLo(c0, Philox4x32.M0);
                var (hi1, lo1) = L.MulHiLo(c2, Philox4x32.M1);
                c0 = L.XorU(L.XorU(hi1, c1), L.U(keys[2 * r]));
                c2 = L.XorU(L.XorU(hi0, c3), L.U(keys[2 * r + 1]));
                c1 = lo1;
                c3 = lo0;
            }
            var r0 = Radius<L, TU, TI, TF>(c0);
            var r1 = Radius<L, TU, TI, TF>(c2);
            var (cos0, sin0) = SinCos<L, TU, TI, TF>(c1);
            var (cos1, sin1) = SinCos<L, TU, TI, TF>(c3);
            L.Transpose(L.Mul(r0, cos0), L.Mul(r0, sin0), L.Mul(r1, cos1), L.Mul(r1, sin1), out var o0, out var o1, out var o2, out var o3);
            ref float p = ref Unsafe.Add(ref d, i);
            if (add)
            {
                o0 = L.Add(L.Load(ref p, 0), L.Mul(scaleV, o0));
                o1 = L.Add(L.Load(ref p, w), L.Mul(scaleV, o1));
                o2 = L.Add(L.Load(ref p, 2 * w), L.Mul(scaleV, o2));
                o3 = L.Add(L.Load(ref p, 3 * w), L.Mul(scaleV, o3));
            }
            L.Store(o0, ref p, 0);
            L.Store(o1, ref p, w);
            L.Store(o2, ref p, 2 * w);
            L.Store(o3, ref p, 3 * w);
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

    /// <summary><see cref="Radius(uint)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TF Radius<L, TU, TI, TF>(TU x) where L : struct, ILanes<TU, TI, TF>
    {
        var u = L.Mul(L.ToFloat(L.AsInt(L.OrU(L.Shr(x, 8), L.U(1u)))), L.F(TwoM24));
        var bits = L.Bits(u);
        var e = L.Sar(L.SubI(bits, L.I(SqrtHalfBits)), 23);
        var m = L.FromBits(L.SubI(bits, L.Shl(e, 23)));
        var one = L.F(1f);
        var s = L.Div(L.Sub(m, one), L.Add(m, one));
        var s2 = L.Mul(s, s);
        var p = L.F(L9);
        p = L.Add(L.Mul(p, s2), L.F(L7));
        p = L.Add(L.Mul(p, s2), L.F(L5));
        p = L.Add(L.Mul(p, s2), L.F(L3));
        var lnM = L.Add(L.Add(s, s), L.Mul(s, L.Mul(s2, p)));
        var lnU = L.Add(L.Mul(L.ToFloat(e), L.F(Ln2)), lnM);
        return L.Sqrt(L.Mul(lnU, L.F(-2f)));
    }

    /// <summary>The scalar (cos, sin) of one 32-bit word (SeedNormal.Transform.cs) lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TF Cos, TF Sin) SinCos<L, TU, TI, TF>(TU x) where L : struct, ILanes<TU, TI, TF>
    {
        var a = L.AsInt(L.Shr(x, 9));
        var q = L.Sar(L.AddI(a, L.I(1 << 20)), 21);
        var nInt = L.SubI(L.AsInt(L.OrU(L.Shr(x, 8), L.U(1u))), L.Shl(q, 22));
        var f = L.Mul(L.ToFloat(nInt), L.F(TwoM24));
        var f2 = L.Mul(f, f);
        var ps = L.F(S9);
        ps = L.Add(L.Mul(ps, f2), L.F(S7));
        ps = L.Add(L.Mul(ps, f2), L.F(S5));
        ps = L.Add(L.Mul(ps, f2), L.F(S3));
        ps = L.Add(L.Mul(ps, f2), L.F(S1));
        var sn = L.Mul(ps, f);
        var pc = L.F(C10);
        pc = L.Add(L.Mul(pc, f2), L.F(C8));
        pc = L.Add(L.Mul(pc, f2), L.F(C6));
        pc = L.Add(L.Mul(pc, f2), L.F(C4));
        pc = L.Add(L.Mul(pc, f2), L.F(C2));
        var cs = L.Add(L.Mul(pc, f2), L.F(1f));
        var oneI = L.I(1);
        var swap = L.FromBits(L.EqualsI(L.AndI(q, oneI), oneI));
        var cosV = L.Select(swap, sn, cs);
        var sinV = L.Select(swap, cs, sn);
        var two = L.I(2);
        cosV = L.FromBits(L.XorI(L.Bits(cosV), L.Shl(L.AndI(L.AddI(q, oneI), two), 30)));
        sinV = L.FromBits(L.XorI(L.Bits(sinV), L.Shl(L.AndI(q, two), 30)));
        return (cosV, sinV);
    }
}
