using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>Output columns per work item of the AB/AtB small path; fixed, so results do not depend on threads.</summary>
    private const int SmallChunk = 256;

    /// <summary>
    /// ABt (decode, x·Wᵀ) computes C in chunks of GemvRows rows × GemvChunk columns (each B row of a chunk is read
    /// once for all its rows); a work item is a run of chunks, about GemvItemsPerThread items per thread: each thread
    /// streams a contiguous stretch of W, and a late helper still leaves at most 1/16 of the work unbalanced
    /// (best calls at 1×512×8192 were the same for 4, 16 and 128 items per thread, within the noise).
    /// </summary>
    private const int GemvChunk = 64;
    private const int GemvRows = 8;
    private const int GemvItemsPerThread = 8;

    /// <summary>
    /// Up to this k the ABt small path prefetches the next four B rows (two passes of 4 rows: ≤ 20 KB of the 48 KB
    /// L1). Measured: +10–60 % at k = 512, n = 8192 (weights streamed from L3); −15 % at k = 1376 (L1 thrashed).
    /// </summary>
    private const int GemvPrefetchMaxK = 640;

    /// <summary>
    /// From this many multiply-adds (512K) the small path uses the engine's threads (was 8M). Measured 1 vs 2 threads
    /// side by side (docs/performance.md, loaded machine, best call): decode x·Wᵀ with a 512×8192 weight (4.2M,
    /// streamed from L3) 70 vs 40 GFLOP/s; 512×1376 and 1376×512 (704K) up to 1.6×; 512×512 (262K) no
    /// consistent gain (the hand-off to a pool thread costs about what the second core saves). A late helper
    /// costs at most one item. Settable for the benchmark (GEMM_SMALLPAR); results do not depend on it.
    /// </summary>
    internal static long SmallParallelWork = 1L << 19;

    [ThreadStatic] private static SmallJob? t_smallJob;

    /// <summary>
    /// Direct vectorised path for decode-time and tiny products, no packing.
    /// ABt: C(i,j) = dot(A row i, B row j), both contiguous in k: 4 B rows per pass (then 1), every A row
    /// of the chunk (8 rows × 64 columns) against them while they are in L1: each weight row is read once per chunk.
    /// AB, AtB: C row i = Σ_p A(i,p)·B row p, an axpy over contiguous rows of B (TensorPrimitives.FusedMultiplyAdd),
    /// items (row, 256-column chunk).
    /// </summary>
    private static void Small(GemmOp op, in GemmArgs g, int threads)
    {
        bool gemv = op == GemmOp.ABt;
        int chunk = gemv ? GemvChunk : SmallChunk;
        int chunks = (g.N + chunk - 1) / chunk;
        int rowBlocks = gemv ? (g.M + GemvRows - 1) / GemvRows : g.M;
        if ((long)g.M * g.N * g.K < SmallParallelWork) threads = 1;
        // ABt: an item is a run of consecutive chunks (about GemvItemsPerThread items per thread), so each thread
        // streams a contiguous stretch of the weights. Which chunk an element is in fixes its arithmetic; how
        // chunks are grouped into items does not change it.
        int chunksPerItem = gemv ? Math.Max(1, chunks / Math.Max(1, GemvItemsPerThread * threads / rowBlocks)) : 1;
        int items = (chunks + chunksPerItem - 1) / chunksPerItem;
        var job = t_smallJob ??= new SmallJob();
        job.Set(op, g, chunks, chunksPerItem, items);
        EngineThreads.Run(job, rowBlocks * items, threads);
        job.Clear();
    }

    private sealed unsafe class SmallJob : ParallelJob
    {
        private GemmOp _op;
        private GemmArgs _g;
        private int _chunks, _chunksPerItem, _items;

        public void Set(GemmOp op, in GemmArgs g, int chunks, int chunksPerItem, int items)
        {
            _op = op; _g = g; _chunks = chunks; _chunksPerItem = chunksPerItem; _items = items;
        }

        public void Clear() => _g = default;

        public override void Execute(int item)
        {
            if (_op == GemmOp.ABt)
            {
                int rowBlock = item / _items, first = item % _items * _chunksPerItem;
                int last = Math.Min(_chunks, first + _chunksPerItem);
                for (int chunk = first; chunk < last; chunk++) Gemv(rowBlock, chunk);
                return;
            }
            int i = item / _chunks;
            int j0 = item % _chunks * SmallChunk;
            int width = Math.Min(SmallChunk, _g.N - j0);
            float* cRow = _g.C + (long)i * _g.N + j0;
            int k = _g.K;

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

        /// <summary>
        /// ABt chunk: rows [i0, i0+GemvRows) × columns [j0, j0+GemvChunk) of C. Which kernel computes an element
        /// depends only on its column's place in the chunk, so every element has one fixed summation order.
        /// </summary>
        private void Gemv(int rowBlock, int chunk)
        {
            int i0 = rowBlock * GemvRows, rows = Math.Min(GemvRows, _g.M - i0);
            int j0 = chunk * GemvChunk, width = Math.Min(GemvChunk, _g.N - j0);
            int k = _g.K, ldb = _g.Bcs;
            bool add = _g.Accumulate;
            float* dots = stackalloc float[4];
            int j = 0;
            if (_g.Isa >= GemmIsa.Vector256)
            {
                for (; j + 4 <= width; j += 4)
                {
                    float* b0 = _g.B + (long)(j0 + j) * ldb;
                    // Prefetch the next pass's rows while streaming these (first A row only: the others find
                    // these rows in L1), when both passes' rows fit L1 together.
                    bool prefetch = k <= GemvPrefetchMaxK && j0 + j + 8 <= _g.N;
                    for (int i = i0; i < i0 + rows; i++)
                    {
                        if (_g.Isa == GemmIsa.Vector512) Dot4x512(_g.A + (long)i * _g.Ars, b0, ldb, k, prefetch && i == i0, dots);
                        else Dot4x256(_g.A + (long)i * _g.Ars, b0, ldb, k, dots);
                        Store(_g.C + (long)i * _g.N + j0 + j, dots, 4, add);
                    }
                }
            }
            for (; j < width; j++)
            {
                var bRow = new ReadOnlySpan<float>(_g.B + (long)(j0 + j) * ldb, k);
                for (int i = i0; i < i0 + rows; i++)
                {
                    float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(_g.A + (long)i * _g.Ars, k), bRow);
                    float* c = _g.C + (long)i * _g.N + j0 + j;
                    *c = add ? *c + dot : dot;
                }
            }
        }

        private static void Store(float* c, float* dots, int count, bool add)
        {
            for (int q = 0; q < count; q++) c[q] = add ? c[q] + dots[q] : dots[q];
        }
    }

    /// <summary>
    /// dots[q] = Σ_p a[p]·b[q·ldb + p], q = 0..3: one A load and four FMAs per 16 floats of k, two accumulators per
    /// output. With <paramref name="prefetch"/> the next four B rows are prefetched (the caller asks only when they
    /// exist and both groups fit L1 together; it does not change the arithmetic).
    /// </summary>
    private static unsafe void Dot4x512(float* a, float* b, int ldb, int k, bool prefetch, float* dots)
    {
        float* b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            // Two independent accumulator sets hide the 4-cycle FMA latency.
            if (prefetch && Sse.IsSupported)
            {
                // The next four rows of B at the same k offset (the next pass's streams), into L1.
                float* n0 = b3 + ldb + p;
                Sse.Prefetch0(n0); Sse.Prefetch0(n0 + 16);
                Sse.Prefetch0(n0 + ldb); Sse.Prefetch0(n0 + ldb + 16);
                Sse.Prefetch0(n0 + 2 * ldb); Sse.Prefetch0(n0 + 2 * ldb + 16);
                Sse.Prefetch0(n0 + 3 * ldb); Sse.Prefetch0(n0 + 3 * ldb + 16);
            }
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
