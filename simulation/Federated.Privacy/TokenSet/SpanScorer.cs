using Federated.Privacy.Gradients;

namespace Federated.Privacy.TokenSet;

/// <summary>
/// Soft span check (after DAGER, Petrov et al. 2024): a weight-matrix gradient is a sum of outer products,
/// G = Σ_t δ_t x_tᵀ, so its column space is spanned by the back-propagated errors δ_t and its row space by the inputs
/// x_t of the tokens in the batch. For each 2-D tensor of the update U [rows, cols] this keeps an orthonormal basis of
/// its column space and of its row space (Gram-Schmidt with a relative tolerance), skipping a side whose rank fills
/// more than <see cref="MaxFill"/> of its dimension (a full-rank side says nothing). A footprint F is scored by
/// the energy fraction ‖P F‖²_F / ‖F‖²_F inside those spaces, averaged over the informative sides. A token whose
/// footprint lies in the update's spans scores near 1, a random one near rank/dimension.
/// Cost: building O(Σ rows·cols·rank); scoring O(Σ rows·cols·rank) per footprint. Matrices too large for that
/// (<see cref="MaxWork"/>) are skipped, so a full-model update is judged on its smaller matrices.
/// </summary>
internal sealed class SpanScorer
{
    /// <summary>A side whose rank exceeds this fraction of its dimension is not used.</summary>
    public const double MaxFill = 0.75;

    /// <summary>Matrices with rows·cols·min(rows, cols) above this are skipped (Gram-Schmidt would take too long).</summary>
    public const long MaxWork = 1L << 31;

    private readonly List<(int Offset, int Rows, int Cols, double[][] Basis, bool ColumnSide)> _sides = [];

    public SpanScorer(GradientOracle oracle, ReadOnlySpan<float> update)
    {
        int offset = 0;
        foreach (var t in oracle.Tensors)
        {
            if (t.Shape.Length == 2 && (long)t.Shape[0] * t.Shape[1] * Math.Min(t.Shape[0], t.Shape[1]) <= MaxWork)
            {
                int rows = t.Shape[0], cols = t.Shape[1];
                var m = update.Slice(offset, t.Length);
                var columns = new List<double[]>(cols);
                for (int j = 0; j < cols; j++) columns.Add(Column(m, rows, cols, j));
                var rowVectors = new List<double[]>(rows);
                for (int i = 0; i < rows; i++) rowVectors.Add(Row(m, cols, i));
                var columnBasis = Basis(columns, rows);
                if (columnBasis.Length > 0 && columnBasis.Length <= MaxFill * rows) _sides.Add((offset, rows, cols, columnBasis, true));
                var rowBasis = Basis(rowVectors, cols);
                if (rowBasis.Length > 0 && rowBasis.Length <= MaxFill * cols) _sides.Add((offset, rows, cols, rowBasis, false));
            }
            offset += t.Length;
        }
    }

    /// <summary>Number of informative sides (0 = the update's every matrix is full rank; all scores are then 0).</summary>
    public int SideCount => _sides.Count;

    /// <summary>Mean over sides of ‖P F‖² / ‖F‖² for a footprint in the oracle's layout.</summary>
    public double Score(ReadOnlySpan<float> footprint)
    {
        if (_sides.Count == 0) return 0;
        double sum = 0;
        foreach (var (offset, rows, cols, basis, columnSide) in _sides)
        {
            var f = footprint.Slice(offset, rows * cols);
            double inside = 0, total = 0;
            int vectors = columnSide ? cols : rows;
            for (int k = 0; k < vectors; k++)
            {
                var v = columnSide ? Column(f, rows, cols, k) : Row(f, cols, k);
                foreach (double x in v) total += x * x;
                foreach (var q in basis)
                {
                    double dot = 0;
                    for (int i = 0; i < q.Length; i++) dot += q[i] * v[i];
                    inside += dot * dot;
                }
            }
            sum += total > 0 ? inside / total : 0;
        }
        return sum / _sides.Count;
    }

    private static double[] Column(ReadOnlySpan<float> m, int rows, int cols, int j)
    {
        var v = new double[rows];
        for (int i = 0; i < rows; i++) v[i] = m[i * cols + j];
        return v;
    }

    private static double[] Row(ReadOnlySpan<float> m, int cols, int i)
    {
        var v = new double[cols];
        for (int j = 0; j < cols; j++) v[j] = m[i * cols + j];
        return v;
    }

    // Orthonormal basis of span(vectors) by modified Gram-Schmidt, dropping a vector whose remainder is below
    // 1e-4 × the largest input norm (float32 gradients: smaller remainders are rounding).
    private static double[][] Basis(List<double[]> vectors, int dim)
    {
        double maxNorm = vectors.Count == 0 ? 0 : vectors.Max(v => Math.Sqrt(v.Sum(x => x * x)));
        var basis = new List<double[]>();
        if (maxNorm == 0) return [];
        foreach (var v0 in vectors.OrderByDescending(v => v.Sum(x => x * x)))
        {
            var v = (double[])v0.Clone();
            for (int pass = 0; pass < 2; pass++)
                foreach (var q in basis)
                {
                    double dot = 0;
                    for (int i = 0; i < dim; i++) dot += q[i] * v[i];
                    for (int i = 0; i < dim; i++) v[i] -= dot * q[i];
                }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            if (norm <= 1e-4 * maxNorm) continue;
            for (int i = 0; i < dim; i++) v[i] /= norm;
            basis.Add(v);
            if (basis.Count == dim) break;
        }
        return [.. basis];
    }
}
