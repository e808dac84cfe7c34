using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>Output columns per work item of the small path; fixed, so results do not depend on threads.</summary>
    private const int SmallChunk = 256;

    /// <summary>
    /// Below this many multiply-adds (8M) the small path stays on the calling thread: it is memory bound (decode reads
    /// each weight once), so a second thread gains little and costs a wake-up.
    /// </summary>
    private const long SmallParallelWork = 1L << 23;

    [ThreadStatic] private static SmallJob? t_smallJob;

    /// <summary>
    /// Direct vectorised path for decode-time and tiny products, no packing.
    /// ABt: C(i,j) = dot(A row i, B row j), both contiguous in k (TensorPrimitives.Dot).
    /// AB, AtB: C row i = Σ_p A(i,p)·B row p, an axpy over contiguous rows of B (TensorPrimitives.FusedMultiplyAdd).
    /// Work items are (row, 256-column chunk) pairs.
    /// </summary>
    private static void Small(GemmOp op, in GemmArgs g, int threads)
    {
        int chunks = (g.N + SmallChunk - 1) / SmallChunk;
        int items = g.M * chunks;
        var job = t_smallJob ??= new SmallJob();
        job.Set(op, g, chunks);
        EngineThreads.Run(job, items, (long)g.M * g.N * g.K >= SmallParallelWork ? threads : 1);
        job.Clear();
    }

    private sealed unsafe class SmallJob : ParallelJob
    {
        private GemmOp _op;
        private GemmArgs _g;
        private int _chunks;

        public void Set(GemmOp op, in GemmArgs g, int chunks) { _op = op; _g = g; _chunks = chunks; }

        public void Clear() => _g = default;

        public override void Execute(int item)
        {
            int i = item / _chunks;
            int j0 = item % _chunks * SmallChunk;
            int width = Math.Min(SmallChunk, _g.N - j0);
            float* cRow = _g.C + (long)i * _g.N + j0;
            int k = _g.K;
            if (_op == GemmOp.ABt)
            {
                float* a = _g.A + (long)i * _g.Ars;
                int j = 0;
                if (_g.Isa >= GemmIsa.Vector256)
                {
                    // Four dot products per pass over the A row: 1 A load feeds 4 FMAs.
                    float* dots = stackalloc float[4];
                    for (; j + 4 <= width; j += 4)
                    {
                        float* b0 = _g.B + (long)(j0 + j) * _g.Bcs;
                        if (_g.Isa == GemmIsa.Vector512) Dot4x512(a, b0, _g.Bcs, k, dots);
                        else Dot4x256(a, b0, _g.Bcs, k, dots);
                        for (int q = 0; q < 4; q++) cRow[j + q] = _g.Accumulate ? cRow[j + q] + dots[q] : dots[q];
                    }
                }
                var aRow = new ReadOnlySpan<float>(a, k);
                for (; j < width; j++)
                {
                    float dot = TensorPrimitives.Dot(aRow, new ReadOnlySpan<float>(_g.B + (long)(j0 + j) * _g.Bcs, k));
                    cRow[j] = _g.Accumulate ? cRow[j] + dot : dot;
                }
                return;
            }

            // C row chunk = Σ_p A(i,p) · B[p, j0..j0+width), accumulated in k order into a stack buffer.
            Span<float> acc = stackalloc float[SmallChunk];
            acc = acc[..width];
            acc.Clear();
            for (int p = 0; p < k; p++)
            {
                float aip = _g.A[(long)i * _g.Ars + (long)p * _g.Acs];
                var bRow = new ReadOnlySpan<float>(_g.B + (long)p * _g.Brs + j0, width);
                TensorPrimitives.FusedMultiplyAdd(bRow, aip, acc, acc);
            }
            var c = new Span<float>(cRow, width);
            if (_g.Accumulate) TensorPrimitives.Add(c, acc, c);
            else acc.CopyTo(c);
        }
    }

    /// <summary>dots[q] = Σ_p a[p]·b[q·ldb + p], q = 0..3: one A load and four FMAs per 16 floats of k.</summary>
    private static unsafe void Dot4x512(float* a, float* b, int ldb, int k, float* dots)
    {
        float* b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            // Two independent accumulator sets hide the 4-cycle FMA latency.
            var va = Vector512.Load(a + p);
            var vb = Vector512.Load(a + p + 16);
            s0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b + p), s0);
            s1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b1 + p), s1);
            s2 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b2 + p), s2);
            s3 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b3 + p), s3);
            t0 = Vector512.FusedMultiplyAdd(vb, Vector512.Load(b + p + 16), t0);
            t1 = Vector512.FusedMultiplyAdd(vb, Vector512.Load(b1 + p + 16), t1);
            t2 = Vector512.FusedMultiplyAdd(vb, Vector512.Load(b2 + p + 16), t2);
            t3 = Vector512.FusedMultiplyAdd(vb, Vector512.Load(b3 + p + 16), t3);
        }
        s0 += t0; s1 += t1; s2 += t2; s3 += t3;
        for (; p + 16 <= k; p += 16)
        {
            var va = Vector512.Load(a + p);
            s0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b + p), s0);
            s1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b1 + p), s1);
            s2 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b2 + p), s2);
            s3 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b3 + p), s3);
        }
        float d0 = Vector512.Sum(s0), d1 = Vector512.Sum(s1), d2 = Vector512.Sum(s2), d3 = Vector512.Sum(s3);
        for (; p < k; p++)
        {
            d0 += a[p] * b[p]; d1 += a[p] * b1[p]; d2 += a[p] * b2[p]; d3 += a[p] * b3[p];
        }
        dots[0] = d0; dots[1] = d1; dots[2] = d2; dots[3] = d3;
    }

    /// <summary>As <see cref="Dot4x512"/> with 256-bit vectors (AVX2).</summary>
    private static unsafe void Dot4x256(float* a, float* b, int ldb, int k, float* dots)
    {
        float* b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var va = Vector256.Load(a + p);
            s0 = Vector256.MultiplyAddEstimate(va, Vector256.Load(b + p), s0);
            s1 = Vector256.MultiplyAddEstimate(va, Vector256.Load(b1 + p), s1);
            s2 = Vector256.MultiplyAddEstimate(va, Vector256.Load(b2 + p), s2);
            s3 = Vector256.MultiplyAddEstimate(va, Vector256.Load(b3 + p), s3);
        }
        float d0 = Vector256.Sum(s0), d1 = Vector256.Sum(s1), d2 = Vector256.Sum(s2), d3 = Vector256.Sum(s3);
        for (; p < k; p++)
        {
            d0 += a[p] * b[p]; d1 += a[p] * b1[p]; d2 += a[p] * b2[p]; d3 += a[p] * b3[p];
        }
        dots[0] = d0; dots[1] = d1; dots[2] = d2; dots[3] = d3;
    }
}
