using System.Runtime.Intrinsics;

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
            for (int i = 0; i < rows; i++)
            {
                float* src = g.A + (long)(row0 + i) * g.Ars + pc;
                float* d = dst + i;
                for (int p = 0; p < kcl; p++) d[p * MR] = src[p];
            }
        }
        else
        {
            // A stored [k, m] (AtB): the MR values of one p are contiguous.
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
            for (int p = 0; p < kcl; p++)
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
}
