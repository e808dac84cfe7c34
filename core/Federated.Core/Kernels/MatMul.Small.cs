using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>Output columns per work item of the small path; fixed, so results do not depend on threads.</summary>
    private const int SmallChunk = 256;

    /// <summary>Below this many multiply-adds the small path stays on the calling thread.</summary>
    private const long SmallParallelWork = 1L << 20;

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
                var aRow = new ReadOnlySpan<float>(_g.A + (long)i * _g.Ars, k);
                for (int j = 0; j < width; j++)
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
}
