using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>
/// RMSNorm as in LLaMA: y = w ⊙ (x · r), r = 1/sqrt(mean(x²) + eps), per row of length dim.
/// Backward with n = x·r: dw += Σ_rows dy ⊙ n; dx += r · (dn − n · mean(dn ⊙ n)), dn = dy ⊙ w.
/// </summary>
internal static class RmsNorm
{
    /// <summary>x, output [rows, dim]; weight [dim]; invRms [rows] saved for backward.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> output, Span<float> invRms)
    {
        int dim = weight.Length, rows = x.Length / dim;
        for (int i = 0; i < rows; i++)
        {
            var xi = x.Slice(i * dim, dim);
            var yi = output.Slice(i * dim, dim);
            float meanSquare = TensorPrimitives.SumOfSquares(xi) / dim;
            float r = 1f / MathF.Sqrt(meanSquare + eps);
            invRms[i] = r;
            TensorPrimitives.Multiply(xi, r, yi);
            TensorPrimitives.Multiply(yi, weight, yi);
        }
    }

    /// <summary>Accumulates into dX and dWeight (dWeight skipped when empty). scratch [dim].</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> invRms, ReadOnlySpan<float> dOutput,
        Span<float> dX, Span<float> dWeight, Span<float> scratch)
    {
        int dim = weight.Length, rows = x.Length / dim;
        var n = scratch.Slice(0, dim);
        var dn = scratch.Slice(dim, dim);
        for (int i = 0; i < rows; i++)
        {
            var xi = x.Slice(i * dim, dim);
            var dyi = dOutput.Slice(i * dim, dim);
            float r = invRms[i];
            TensorPrimitives.Multiply(xi, r, n);
            if (!dWeight.IsEmpty) TensorPrimitives.MultiplyAdd(dyi, n, dWeight, dWeight);
            TensorPrimitives.Multiply(dyi, weight, dn);
            float c = TensorPrimitives.Dot(dn, n) / dim;
            // dx += r·dn − (r·c)·n
            var dxi = dX.Slice(i * dim, dim);
            TensorPrimitives.MultiplyAdd(dn, r, dxi, dxi);
            TensorPrimitives.MultiplyAdd(n, -r * c, dxi, dxi);
        }
    }
}
