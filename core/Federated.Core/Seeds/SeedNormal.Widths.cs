using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Seeds;

public static partial class SeedNormal
{
    // The three widths of ILanes. Everything but MulHiLo (the ISA's widening multiply) and Transpose (its shuffles)
    // is the same cross-platform Vector operator at each width. 128 bits: SSE2 on x64, AdvSimd on Arm64 (the path of
    // Arm edge clients, and the tail of 16..31 elements after the wider loops); 256 bits: AVX2 (and the tail of
    // 32..63 elements after the AVX-512 loop); 512 bits: AVX-512F.

    private readonly struct Lanes128 : ILanes<Vector128<uint>, Vector128<int>, Vector128<float>>
    {
        public static int Width => Vector128<float>.Count;
        public static Vector128<uint> U(uint value) => Vector128.Create(value);
        public static Vector128<uint> Indices => Vector128<uint>.Indices;
        public static Vector128<uint> AddU(Vector128<uint> a, Vector128<uint> b) => a + b;
        public static Vector128<uint> SubU(Vector128<uint> a, Vector128<uint> b) => a - b;
        public static Vector128<uint> XorU(Vector128<uint> a, Vector128<uint> b) => a ^ b;
        public static Vector128<uint> OrU(Vector128<uint> a, Vector128<uint> b) => a | b;
        public static Vector128<uint> LessThanU(Vector128<uint> a, Vector128<uint> b) => Vector128.LessThan(a, b);
        public static Vector128<uint> Shr(Vector128<uint> a, int bits) => Vector128.ShiftRightLogical(a, bits);
        public static Vector128<int> AsInt(Vector128<uint> a) => a.AsInt32();
        public static Vector128<int> I(int value) => Vector128.Create(value);
        public static Vector128<int> AddI(Vector128<int> a, Vector128<int> b) => a + b;
        public static Vector128<int> SubI(Vector128<int> a, Vector128<int> b) => a - b;
        public static Vector128<int> AndI(Vector128<int> a, Vector128<int> b) => a & b;
        public static Vector128<int> XorI(Vector128<int> a, Vector128<int> b) => a ^ b;
        public static Vector128<int> EqualsI(Vector128<int> a, Vector128<int> b) => Vector128.Equals(a, b);
        public static Vector128<int> Shl(Vector128<int> a, int bits) => Vector128.ShiftLeft(a, bits);
        public static Vector128<int> Sar(Vector128<int> a, int bits) => Vector128.ShiftRightArithmetic(a, bits);
        public static Vector128<float> ToFloat(Vector128<int> a) => Vector128.ConvertToSingle(a);
        public static Vector128<float> FromBits(Vector128<int> a) => a.AsSingle();
        public static Vector128<int> Bits(Vector128<float> a) => a.AsInt32();
        public static Vector128<float> F(float value) => Vector128.Create(value);
        public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
        public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;
        public static Vector128<float> Mul(Vector128<float> a, Vector128<float> b) => a * b;
        public static Vector128<float> Div(Vector128<float> a, Vector128<float> b) => a / b;
        public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);
        public static Vector128<float> Select(Vector128<float> mask, Vector128<float> whenSet, Vector128<float> whenClear) =>
            Vector128.ConditionalSelect(mask, whenSet, whenClear);
        public static Vector128<float> Load(ref float p, int offset) => Vector128.LoadUnsafe(ref p, (nuint)offset);
        public static void Store(Vector128<float> value, ref float p, int offset) => value.StoreUnsafe(ref p, (nuint)offset);

        /// <summary>pmuludq on even/odd lanes (x64) or umull + uzp2 (Arm64).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector128<uint> Hi, Vector128<uint> Lo) MulHiLo(Vector128<uint> a, uint m)
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

        /// <summary>A 4×4 transpose by 32-bit then 64-bit interleaves.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transpose(Vector128<float> z0, Vector128<float> z1, Vector128<float> z2, Vector128<float> z3,
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

    private readonly struct Lanes256 : ILanes<Vector256<uint>, Vector256<int>, Vector256<float>>
    {
        public static int Width => Vector256<float>.Count;
        public static Vector256<uint> U(uint value) => Vector256.Create(value);
        public static Vector256<uint> Indices => Vector256<uint>.Indices;
        public static Vector256<uint> AddU(Vector256<uint> a, Vector256<uint> b) => a + b;
        public static Vector256<uint> SubU(Vector256<uint> a, Vector256<uint> b) => a - b;
        public static Vector256<uint> XorU(Vector256<uint> a, Vector256<uint> b) => a ^ b;
        public static Vector256<uint> OrU(Vector256<uint> a, Vector256<uint> b) => a | b;
        public static Vector256<uint> LessThanU(Vector256<uint> a, Vector256<uint> b) => Vector256.LessThan(a, b);
        public static Vector256<uint> Shr(Vector256<uint> a, int bits) => Vector256.ShiftRightLogical(a, bits);
        public static Vector256<int> AsInt(Vector256<uint> a) => a.AsInt32();
        public static Vector256<int> I(int value) => Vector256.Create(value);
        public static Vector256<int> AddI(Vector256<int> a, Vector256<int> b) => a + b;
        public static Vector256<int> SubI(Vector256<int> a, Vector256<int> b) => a - b;
        public static Vector256<int> AndI(Vector256<int> a, Vector256<int> b) => a & b;
        public static Vector256<int> XorI(Vector256<int> a, Vector256<int> b) => a ^ b;
        public static Vector256<int> EqualsI(Vector256<int> a, Vector256<int> b) => Vector256.Equals(a, b);
        public static Vector256<int> Shl(Vector256<int> a, int bits) => Vector256.ShiftLeft(a, bits);
        public static Vector256<int> Sar(Vector256<int> a, int bits) => Vector256.ShiftRightArithmetic(a, bits);
        public static Vector256<float> ToFloat(Vector256<int> a) => Vector256.ConvertToSingle(a);
        public static Vector256<float> FromBits(Vector256<int> a) => a.AsSingle();
        public static Vector256<int> Bits(Vector256<float> a) => a.AsInt32();
        public static Vector256<float> F(float value) => Vector256.Create(value);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
        public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
        public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
        public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
        public static Vector256<float> Select(Vector256<float> mask, Vector256<float> whenSet, Vector256<float> whenClear) =>
            Vector256.ConditionalSelect(mask, whenSet, whenClear);
        public static Vector256<float> Load(ref float p, int offset) => Vector256.LoadUnsafe(ref p, (nuint)offset);
        public static void Store(Vector256<float> value, ref float p, int offset) => value.StoreUnsafe(ref p, (nuint)offset);

        /// <summary>vpmuludq on even lanes and on odd lanes shifted down.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<uint> Hi, Vector256<uint> Lo) MulHiLo(Vector256<uint> a, uint m)
        {
            var mv = Vector256.Create(m);
            var even = Avx2.Multiply(a, mv);
            var odd = Avx2.Multiply(Vector256.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
            var oddMask = Vector256.Create(0xFFFFFFFF00000000UL).AsUInt32();
            var hi = Vector256.ConditionalSelect(oddMask, odd.AsUInt32(), Vector256.ShiftRightLogical(even, 32).AsUInt32());
            return (hi, a * mv);
        }

        /// <summary>Unpack 32-bit, unpack 64-bit, then 128-bit lane permutes (blocks of 8).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transpose(Vector256<float> z0, Vector256<float> z1, Vector256<float> z2, Vector256<float> z3,
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

    private readonly struct Lanes512 : ILanes<Vector512<uint>, Vector512<int>, Vector512<float>>
    {
        public static int Width => Vector512<float>.Count;
        public static Vector512<uint> U(uint value) => Vector512.Create(value);
        public static Vector512<uint> Indices => Vector512<uint>.Indices;
        public static Vector512<uint> AddU(Vector512<uint> a, Vector512<uint> b) => a + b;
        public static Vector512<uint> SubU(Vector512<uint> a, Vector512<uint> b) => a - b;
        public static Vector512<uint> XorU(Vector512<uint> a, Vector512<uint> b) => a ^ b;
        public static Vector512<uint> OrU(Vector512<uint> a, Vector512<uint> b) => a | b;
        public static Vector512<uint> LessThanU(Vector512<uint> a, Vector512<uint> b) => Vector512.LessThan(a, b);
        public static Vector512<uint> Shr(Vector512<uint> a, int bits) => Vector512.ShiftRightLogical(a, bits);
        public static Vector512<int> AsInt(Vector512<uint> a) => a.AsInt32();
        public static Vector512<int> I(int value) => Vector512.Create(value);
        public static Vector512<int> AddI(Vector512<int> a, Vector512<int> b) => a + b;
        public static Vector512<int> SubI(Vector512<int> a, Vector512<int> b) => a - b;
        public static Vector512<int> AndI(Vector512<int> a, Vector512<int> b) => a & b;
        public static Vector512<int> XorI(Vector512<int> a, Vector512<int> b) => a ^ b;
        public static Vector512<int> EqualsI(Vector512<int> a, Vector512<int> b) => Vector512.Equals(a, b);
        public static Vector512<int> Shl(Vector512<int> a, int bits) => Vector512.ShiftLeft(a, bits);
        public static Vector512<int> Sar(Vector512<int> a, int bits) => Vector512.ShiftRightArithmetic(a, bits);
        public static Vector512<float> ToFloat(Vector512<int> a) => Vector512.ConvertToSingle(a);
        public static Vector512<float> FromBits(Vector512<int> a) => a.AsSingle();
        public static Vector512<int> Bits(Vector512<float> a) => a.AsInt32();
        public static Vector512<float> F(float value) => Vector512.Create(value);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
        public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
        public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
        public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
        public static Vector512<float> Select(Vector512<float> mask, Vector512<float> whenSet, Vector512<float> whenClear) =>
            Vector512.ConditionalSelect(mask, whenSet, whenClear);
        public static Vector512<float> Load(ref float p, int offset) => Vector512.LoadUnsafe(ref p, (nuint)offset);
        public static void Store(Vector512<float> value, ref float p, int offset) => value.StoreUnsafe(ref p, (nuint)offset);

        /// <summary>vpmuludq on even lanes and on odd lanes shifted down.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<uint> Hi, Vector512<uint> Lo) MulHiLo(Vector512<uint> a, uint m)
        {
            var mv = Vector512.Create(m);
            var even = Avx512F.Multiply(a, mv);
            var odd = Avx512F.Multiply(Vector512.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
            var oddMask = Vector512.Create(0xFFFFFFFF00000000UL).AsUInt32();
            var hi = Vector512.ConditionalSelect(oddMask, odd.AsUInt32(), Vector512.ShiftRightLogical(even, 32).AsUInt32());
            return (hi, a * mv);
        }

        /// <summary>Unpack 32-bit, unpack 64-bit, then 128-bit lane shuffles (blocks of 16).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transpose(Vector512<float> z0, Vector512<float> z1, Vector512<float> z2, Vector512<float> z3,
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
}
