using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>
    /// Packs rows [row0, row0+rows) × k-slice [pc, pc+kcl) of A into dst as [kcl][MR], rows past the edge zero.
    /// Cost: MR·kcl moves per panel, once per product (the panel is then reused by every column tile).
    /// </summary>
    private static unsafe void PackA(in GemmArgs g, int row0, int rows, int pc, int kcl, float* dst)
    {
        if (g.Acs == 1)
        {
            // A row-major in k (ABt, AB): read each row contiguously, write with stride MR.
            int p0 = 0;
            if (rows == MR && Sse.IsSupported)
            {
                // 4 k-steps at a time: rows 0-3 by a 4×4 transpose, rows 4-5 interleaved in pairs.
                float* r0 = g.A + (long)row0 * g.Ars + pc;
                float* r1 = r0 + g.Ars, r2 = r1 + g.Ars, r3 = r2 + g.Ars, r4 = r3 + g.Ars, r5 = r4 + g.Ars;
                for (; p0 + 4 <= kcl; p0 += 4)
                {
                    Transpose4(Sse.LoadVector128(r0 + p0), Sse.LoadVector128(r1 + p0), Sse.LoadVector128(r2 + p0),
                        Sse.LoadVector128(r3 + p0), out var t0, out var t1, out var t2, out var t3);
                    float* d = dst + p0 * MR;
                    Sse.Store(d, t0);
                    Sse.Store(d + MR, t1);
                    Sse.Store(d + 2 * MR, t2);
                    Sse.Store(d + 3 * MR, t3);
                    var v4 = Sse.LoadVector128(r4 + p0);
                    var v5 = Sse.LoadVector128(r5 + p0);
                    var lo = Sse.UnpackLow(v4, v5);
                    var hi = Sse.UnpackHigh(v4, v5);
                    Sse.StoreLow(d + 4, lo);
                    Sse.StoreHigh(d + MR + 4, lo);
                    Sse.StoreLow(d + 2 * MR + 4, hi);
                    Sse.StoreHigh(d + 3 * MR + 4, hi);
                }
            }
            for (int i = 0; i < rows; i++)
            {
                float* src = g.A + (long)(row0 + i) * g.Ars + pc;
                float* d = dst + i;
                for (int p = p0; p < kcl; p++) d[p * MR] = src[p];
            }
        }
        else
        {
            // A stored [k, m] (AtB): the MR values of one p are contiguous.
            if (rows == MR && g.Ars == 1)
            {
                for (int p = 0; p < kcl; p++)
                {
                    float* src = g.A + (long)(pc + p) * g.Acs + row0;
                    float* d = dst + p * MR;
                    Vector128.Store(Vector128.Load(src), d);                  // rows 0-3
                    Unsafe.WriteUnaligned(d + 4, Unsafe.ReadUnaligned<long>(src + 4)); // rows 4-5
                }
                return;
            }
            for (int p = 0; p < kcl; p++)
            {
                float* src = g.A + (long)(pc + p) * g.Acs + (long)row0 * g.Ars;
                float* d = dst + p * MR;
                for (int i = 0; i < rows; i++) d[i] = src[i * g.Ars];
            }
        }
        if (rows < MR)
        {
            for (int p = 0; p < kcl; p++)
            for (int i = rows; i < MR; i++) dst[p * MR + i] = 0f;
        }
    }

    /// <summary>
    /// Packs k-slice [pc, pc+kcl) × columns [col0, col0+cols) of B into dst as [kcl][NR], columns past the edge zero.
    /// Cost: NR·kcl moves per panel, once per product (the panel is then reused by every row tile).
    /// </summary>
    private static unsafe void PackB(in GemmArgs g, int col0, int cols, int pc, int kcl, float* dst)
    {
        if (g.Bcs == 1)
        {
            // B stored [k, n] (AB, AtB): one contiguous row segment per p.
            for (int p = 0; p < kcl; p++)
            {
                float* src = g.B + (long)(pc + p) * g.Brs + col0;
                float* d = dst + p * NR;
                if (cols == NR)
                {
                    Vector128.Store(Vector128.Load(src), d);
                    int j = 4;
                    for (; j < NR; j += 4) Vector128.Store(Vector128.Load(src + j), d + j);
                }
                else
                {
                    int j = 0;
                    for (; j < cols; j++) d[j] = src[j];
                    for (; j < NR; j++) d[j] = 0f;
                }
            }
            return;
        }

        // B stored [n, k] (ABt, Hugging Face weights): transpose while packing, 4 columns at a time so each
        // read stream is contiguous in k.
        int c = 0;
        for (; c + 4 <= cols; c += 4)
        {
            float* s0 = g.B + (long)(col0 + c) * g.Bcs + pc;
            float* s1 = s0 + g.Bcs, s2 = s1 + g.Bcs, s3 = s2 + g.Bcs;
            float* d = dst + c;
            int p = 0;
            if (Sse.IsSupported)
            {
                for (; p + 4 <= kcl; p += 4)
                {
                    Transpose4(Sse.LoadVector128(s0 + p), Sse.LoadVector128(s1 + p), Sse.LoadVector128(s2 + p),
                        Sse.LoadVector128(s3 + p), out var t0, out var t1, out var t2, out var t3);
                    Sse.Store(d + p * NR, t0);
                    Sse.Store(d + (p + 1) * NR, t1);
                    Sse.Store(d + (p + 2) * NR, t2);
                    Sse.Store(d + (p + 3) * NR, t3);
                }
            }
            for (; p < kcl; p++)
            {
                Vector128.Store(Vector128.Create(s0[p], s1[p], s2[p], s3[p]), d + p * NR);
            }
        }
        for (; c < cols; c++)
        {
            float* src = g.B + (long)(col0 + c) * g.Bcs + pc;
            for (int p = 0; p < kcl; p++) dst[p * NR + c] = src[p];
        }
        if (cols < NR)
        {
            for (int p = 0; p < kcl; p++)
            for (int j = cols; j < NR; j++) dst[p * NR + j] = 0f;
        }
    }

    /// <summary>4×4 transpose: t_q = (r0[q], r1[q], r2[q], r3[q]) (the SSE _MM_TRANSPOSE4_PS sequence).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3,
        out Vector128<float> t0, out Vector128<float> t1, out Vector128<float> t2, out Vector128<float> t3)
    {
        var a = Sse.UnpackLow(r0, r1);   // r0[0] r1[0] r0[1] r1[1]
        var b = Sse.UnpackLow(r2, r3);   // r2[0] r3[0] r2[1] r3[1]
        var c = Sse.UnpackHigh(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
        var e = Sse.UnpackHigh(r2, r3);  // r2[2] r3[2] r2[3] r3[3]
        t0 = Sse.MoveLowToHigh(a, b);
        t1 = Sse.MoveHighToLow(b, a);
        t2 = Sse.MoveLowToHigh(c, e);
        t3 = Sse.MoveHighToLow(e, c);
    }
}
