using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>Full MR×NR tile: C (+)= Apanel · Bpanel with the given vector width.</summary>
    private static unsafe void Kernel(GemmIsa isa, float* ap, float* bp, int kc, float* c, int ldc, bool add)
    {
        switch (isa)
        {
            case GemmIsa.Vector512: Kernel512(ap, bp, kc, c, ldc, add); break;
            case GemmIsa.Vector256:
                for (int q = 0; q < NR; q += 16) Kernel256(ap, bp + q, kc, c + q, ldc, add);
                break;
            case GemmIsa.Vector128:
                for (int q = 0; q < NR; q += 8) Kernel128(ap, bp + q, kc, c + q, ldc, add);
                break;
            default: KernelScalar(ap, bp, kc, c, ldc, add); break;
        }
    }

    /// <summary>
    /// Edge tile (fewer than MR rows or NR columns, or C written transposed): the same kernel into a 6×64 stack
    /// tile, then the valid part is stored or added at C(i,j) = c[i·rowStride + j·colStride]. Same arithmetic per
    /// element as the full tile.
    /// </summary>
    private static unsafe void KernelEdge(GemmIsa isa, float* ap, float* bp, int kc, float* c, int rowStride, int colStride,
        int rows, int cols, bool add)
    {
        float* tile = stackalloc float[MR * NR];
        Kernel(isa, ap, bp, kc, tile, NR, add: false);
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * NR;
            float* dst = c + (long)i * rowStride;
            if (colStride == 1)
            {
                if (add) for (int j = 0; j < cols; j++) dst[j] += src[j];
                else for (int j = 0; j < cols; j++) dst[j] = src[j];
            }
            else
            {
                if (add) for (int j = 0; j < cols; j++) dst[(long)j * colStride] += src[j];
                else for (int j = 0; j < cols; j++) dst[(long)j * colStride] = src[j];
            }
        }
    }

    /// <summary>
    /// C[6,64] (+)= Apanel[kc][6] · Bpanel[kc][64]: 24 zmm accumulators, per k step 4 B loads, 6 broadcasts, 24 FMAs.
    /// This is where the time goes: at two 512-bit FMAs per cycle one k step takes 12 cycles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512(float* ap, float* bp, int kc, float* c, int ldc, bool add)
    {
        var c00 = Vector512<float>.Zero; var c01 = Vector512<float>.Zero; var c02 = Vector512<float>.Zero; var c03 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero; var c12 = Vector512<float>.Zero; var c13 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero; var c21 = Vector512<float>.Zero; var c22 = Vector512<float>.Zero; var c23 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero; var c31 = Vector512<float>.Zero; var c32 = Vector512<float>.Zero; var c33 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero; var c41 = Vector512<float>.Zero; var c42 = Vector512<float>.Zero; var c43 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero; var c51 = Vector512<float>.Zero; var c52 = Vector512<float>.Zero; var c53 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(bp + 0); var b1 = Vector512.Load(bp + 16); var b2 = Vector512.Load(bp + 32); var b3 = Vector512.Load(bp + 48);
            var a0 = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01); c02 = Vector512.FusedMultiplyAdd(a0, b2, c02); c03 = Vector512.FusedMultiplyAdd(a0, b3, c03);
            var a1 = Vector512.Create(ap[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11); c12 = Vector512.FusedMultiplyAdd(a1, b2, c12); c13 = Vector512.FusedMultiplyAdd(a1, b3, c13);
            var a2 = Vector512.Create(ap[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21); c22 = Vector512.FusedMultiplyAdd(a2, b2, c22); c23 = Vector512.FusedMultiplyAdd(a2, b3, c23);
            var a3 = Vector512.Create(ap[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31); c32 = Vector512.FusedMultiplyAdd(a3, b2, c32); c33 = Vector512.FusedMultiplyAdd(a3, b3, c33);
            var a4 = Vector512.Create(ap[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41); c42 = Vector512.FusedMultiplyAdd(a4, b2, c42); c43 = Vector512.FusedMultiplyAdd(a4, b3, c43);
            var a5 = Vector512.Create(ap[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51); c52 = Vector512.FusedMultiplyAdd(a5, b2, c52); c53 = Vector512.FusedMultiplyAdd(a5, b3, c53);
            ap += 6;
            bp += 64;
        }
        if (add)
        {
            float* c0 = c;
            Vector512.Store(Vector512.Load(c0 + 0) + c00, c0 + 0); Vector512.Store(Vector512.Load(c0 + 16) + c01, c0 + 16); Vector512.Store(Vector512.Load(c0 + 32) + c02, c0 + 32); Vector512.Store(Vector512.Load(c0 + 48) + c03, c0 + 48);
            float* c1 = c + 1 * ldc;
            Vector512.Store(Vector512.Load(c1 + 0) + c10, c1 + 0); Vector512.Store(Vector512.Load(c1 + 16) + c11, c1 + 16); Vector512.Store(Vector512.Load(c1 + 32) + c12, c1 + 32); Vector512.Store(Vector512.Load(c1 + 48) + c13, c1 + 48);
            float* c2 = c + 2 * ldc;
            Vector512.Store(Vector512.Load(c2 + 0) + c20, c2 + 0); Vector512.Store(Vector512.Load(c2 + 16) + c21, c2 + 16); Vector512.Store(Vector512.Load(c2 + 32) + c22, c2 + 32); Vector512.Store(Vector512.Load(c2 + 48) + c23, c2 + 48);
            float* c3 = c + 3 * ldc;
            Vector512.Store(Vector512.Load(c3 + 0) + c30, c3 + 0); Vector512.Store(Vector512.Load(c3 + 16) + c31, c3 + 16); Vector512.Store(Vector512.Load(c3 + 32) + c32, c3 + 32); Vector512.Store(Vector512.Load(c3 + 48) + c33, c3 + 48);
            float* c4 = c + 4 * ldc;
            Vector512.Store(Vector512.Load(c4 + 0) + c40, c4 + 0); Vector512.Store(Vector512.Load(c4 + 16) + c41, c4 + 16); Vector512.Store(Vector512.Load(c4 + 32) + c42, c4 + 32); Vector512.Store(Vector512.Load(c4 + 48) + c43, c4 + 48);
            float* c5 = c + 5 * ldc;
            Vector512.Store(Vector512.Load(c5 + 0) + c50, c5 + 0); Vector512.Store(Vector512.Load(c5 + 16) + c51, c5 + 16); Vector512.Store(Vector512.Load(c5 + 32) + c52, c5 + 32); Vector512.Store(Vector512.Load(c5 + 48) + c53, c5 + 48);
        }
        else
        {
            Vector512.Store(c00, c + 0 * ldc + 0); Vector512.Store(c01, c + 0 * ldc + 16); Vector512.Store(c02, c + 0 * ldc + 32); Vector512.Store(c03, c + 0 * ldc + 48);
            Vector512.Store(c10, c + 1 * ldc + 0); Vector512.Store(c11, c + 1 * ldc + 16); Vector512.Store(c12, c + 1 * ldc + 32); Vector512.Store(c13, c + 1 * ldc + 48);
            Vector512.Store(c20, c + 2 * ldc + 0); Vector512.Store(c21, c + 2 * ldc + 16); Vector512.Store(c22, c + 2 * ldc + 32); Vector512.Store(c23, c + 2 * ldc + 48);
            Vector512.Store(c30, c + 3 * ldc + 0); Vector512.Store(c31, c + 3 * ldc + 16); Vector512.Store(c32, c + 3 * ldc + 32); Vector512.Store(c33, c + 3 * ldc + 48);
            Vector512.Store(c40, c + 4 * ldc + 0); Vector512.Store(c41, c + 4 * ldc + 16); Vector512.Store(c42, c + 4 * ldc + 32); Vector512.Store(c43, c + 4 * ldc + 48);
            Vector512.Store(c50, c + 5 * ldc + 0); Vector512.Store(c51, c + 5 * ldc + 16); Vector512.Store(c52, c + 5 * ldc + 32); Vector512.Store(c53, c + 5 * ldc + 48);
        }
    }

    /// <summary>C[6,16] (+)= Apanel[kc][6] · B[kc][16 of 64]: 12 ymm accumulators (fits AVX2's 16 registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel256(float* ap, float* bp, int kc, float* c, int ldc, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var a = Vector256.Create(ap[0]); c00 = Vector256.MultiplyAddEstimate(a, b0, c00); c01 = Vector256.MultiplyAddEstimate(a, b1, c01);
            a = Vector256.Create(ap[1]); c10 = Vector256.MultiplyAddEstimate(a, b0, c10); c11 = Vector256.MultiplyAddEstimate(a, b1, c11);
            a = Vector256.Create(ap[2]); c20 = Vector256.MultiplyAddEstimate(a, b0, c20); c21 = Vector256.MultiplyAddEstimate(a, b1, c21);
            a = Vector256.Create(ap[3]); c30 = Vector256.MultiplyAddEstimate(a, b0, c30); c31 = Vector256.MultiplyAddEstimate(a, b1, c31);
            a = Vector256.Create(ap[4]); c40 = Vector256.MultiplyAddEstimate(a, b0, c40); c41 = Vector256.MultiplyAddEstimate(a, b1, c41);
            a = Vector256.Create(ap[5]); c50 = Vector256.MultiplyAddEstimate(a, b0, c50); c51 = Vector256.MultiplyAddEstimate(a, b1, c51);
            ap += MR;
            bp += NR;
        }
        Store256(c, c00, c01, add); Store256(c + ldc, c10, c11, add); Store256(c + 2 * ldc, c20, c21, add);
        Store256(c + 3 * ldc, c30, c31, add); Store256(c + 4 * ldc, c40, c41, add); Store256(c + 5 * ldc, c50, c51, add);
    }

    private static unsafe void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool add)
    {
        if (add) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    /// <summary>C[6,8] (+)= Apanel[kc][6] · B[kc][8 of 64]: 12 xmm accumulators (SSE / NEON).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel128(float* ap, float* bp, int kc, float* c, int ldc, bool add)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(bp);
            var b1 = Vector128.Load(bp + 4);
            var a = Vector128.Create(ap[0]); c00 = Vector128.MultiplyAddEstimate(a, b0, c00); c01 = Vector128.MultiplyAddEstimate(a, b1, c01);
            a = Vector128.Create(ap[1]); c10 = Vector128.MultiplyAddEstimate(a, b0, c10); c11 = Vector128.MultiplyAddEstimate(a, b1, c11);
            a = Vector128.Create(ap[2]); c20 = Vector128.MultiplyAddEstimate(a, b0, c20); c21 = Vector128.MultiplyAddEstimate(a, b1, c21);
            a = Vector128.Create(ap[3]); c30 = Vector128.MultiplyAddEstimate(a, b0, c30); c31 = Vector128.MultiplyAddEstimate(a, b1, c31);
            a = Vector128.Create(ap[4]); c40 = Vector128.MultiplyAddEstimate(a, b0, c40); c41 = Vector128.MultiplyAddEstimate(a, b1, c41);
            a = Vector128.Create(ap[5]); c50 = Vector128.MultiplyAddEstimate(a, b0, c50); c51 = Vector128.MultiplyAddEstimate(a, b1, c51);
            ap += MR;
            bp += NR;
        }
        Store128(c, c00, c01, add); Store128(c + ldc, c10, c11, add); Store128(c + 2 * ldc, c20, c21, add);
        Store128(c + 3 * ldc, c30, c31, add); Store128(c + 4 * ldc, c40, c41, add); Store128(c + 5 * ldc, c50, c51, add);
    }

    private static unsafe void Store128(float* c, Vector128<float> v0, Vector128<float> v1, bool add)
    {
        if (add) { v0 += Vector128.Load(c); v1 += Vector128.Load(c + 4); }
        Vector128.Store(v0, c);
        Vector128.Store(v1, c + 4);
    }

    /// <summary>Portable fallback: C[6,64] (+)= Apanel · Bpanel, one output element at a time in k order.</summary>
    private static unsafe void KernelScalar(float* ap, float* bp, int kc, float* c, int ldc, bool add)
    {
        for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
        {
            float sum = 0f;
            for (int p = 0; p < kc; p++) sum += ap[p * MR + i] * bp[p * NR + j];
            float* dst = c + (long)i * ldc + j;
            *dst = add ? *dst + sum : sum;
        }
    }
}
