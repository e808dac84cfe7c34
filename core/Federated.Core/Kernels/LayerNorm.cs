using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>
/// LayerNorm as in GPT-2: y = (x − μ)·s ⊙ w + b, s = 1/sqrt(biased var + eps), per row of length dim.
/// Backward with n = (x − μ)·s, dn = dy ⊙ w: dx += s·(dn − mean(dn) − n·mean(dn ⊙ n)); dw += dy ⊙ n; db += dy.
/// </summary>
internal static class LayerNorm
{
    /// <summary>x, output [rows, dim]; weight, bias [dim]; mean, rstd [rows] saved for backward.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps,
        Span<float> output, Span<float> mean, Span<float> rstd)
    {
        int dim = weight.Length, rows = x.Length / dim;
        for (int i = 0; i < rows; i++)
        {
            var xi = x.Slice(i * dim, dim);
            var yi = output.Slice(i * dim, dim);
            float m = TensorPrimitives.Sum(xi) / dim;
            TensorPrimitives.Subtract(xi, m, yi);
            float v = TensorPrimitives.SumOfSquares(yi) / dim;
            float s = 1f / MathF.Sqrt(v + eps);
            mean[i] = m;
            rstd[i] = s;
            TensorPrimitives.Multiply(yi, s, yi);
            TensorPrimitives.MultiplyAdd(yi, weight, bias, yi);
        }
    }

    /// <summary>Accumulates into dX, dWeight, dBias (weight/bias grads skipped when empty). scratch [2·dim].</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> dOutput, Span<float> dX, Span<float> dWeight, Span<float> dBias, Span<float> scratch)
    {
        int dim = weight.Length, rows = x.Length / dim;
        var n = scratch.Slice(0, dim);
        var dn = scratch.Slice(dim, dim);
        for (int i = 0; i < rows; i++)
        {
            var xi = x.Slice(i * dim, dim);
            var dyi = dOutput.Slice(i * dim, dim);
            float s = rstd[i];
            TensorPrimitives.Subtract(xi, mean[i], n);
            TensorPrimitives.Multiply(n, s, n);
            if (!dWeight.IsEmpty) TensorPrimitives.MultiplyAdd(dyi, n, dWeight, dWeight);
            if (!dBias.IsEmpty) TensorPrimitives.Add(dBias, dyi, dBias);
            TensorPrimitives.Multiply(dyi, weight, dn);
            float meanDn = TensorPrimitives.Sum(dn) / dim;
            float meanDnN = TensorPrimitives.Dot(dn, n) / dim;
            // dx += s·dn − s·meanDn − (s·meanDnN)·n
            var dxi = dX.Slice(i * dim, dim);
            TensorPrimitives.Subtract(dn, meanDn, dn);
            TensorPrimitives.MultiplyAdd(n, -meanDnN, dn, dn);
            TensorPrimitives.MultiplyAdd(dn, s, dxi, dxi);
        }
    }
}
