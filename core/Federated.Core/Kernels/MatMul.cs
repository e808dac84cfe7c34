namespace Federated.Core.Kernels;

/// <summary>
/// Float32 matrix products over row-major spans, in the three shapes a transformer needs.
/// Hugging Face stores linear weights as [out, in], so the forward is <see cref="ABt"/> (y = x·Wᵀ),
/// the input gradient is <see cref="AB"/> (dX = dY·W) and the weight gradient is <see cref="AtB"/> (dW = dYᵀ·X).
/// With <c>accumulate</c> the product is added to <c>c</c>; otherwise <c>c</c> is overwritten.
/// The fast paths must match <see cref="Reference"/> within a stated tolerance on every shape and tail.
/// All three run on <see cref="EngineThreads.Count"/> threads in fixed chunks: results are bit-identical for any
/// thread count. Big shapes go to the packed, cache-blocked GEMM (MatMul.Packed.cs); tiny ones to MatMul.Small.cs.
/// </summary>
public static partial class MatMul
{
    /// <summary>C[m,n] (+)= A[m,k] · B[n,k]ᵀ.</summary>
    public static void ABt(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckShapes(a.Length, (long)m * k, b.Length, (long)n * k, c.Length, (long)m * n);
        Gemm(GemmOp.ABt, a, b, c, m, k, n, accumulate, EngineThreads.Count, BestIsa);
    }

    /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
    public static void AB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckShapes(a.Length, (long)m * k, b.Length, (long)k * n, c.Length, (long)m * n);
        Gemm(GemmOp.AB, a, b, c, m, k, n, accumulate, EngineThreads.Count, BestIsa);
    }

    /// <summary>C[m,n] (+)= A[k,m]ᵀ · B[k,n].</summary>
    public static void AtB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        CheckShapes(a.Length, (long)k * m, b.Length, (long)k * n, c.Length, (long)m * n);
        Gemm(GemmOp.AtB, a, b, c, m, k, n, accumulate, EngineThreads.Count, BestIsa);
    }

    private static void CheckShapes(int aLength, long aNeeded, int bLength, long bNeeded, int cLength, long cNeeded)
    {
        if (aLength < aNeeded) throw new ArgumentException($"A has {aLength} elements, needs {aNeeded}.", "a");
        if (bLength < bNeeded) throw new ArgumentException($"B has {bLength} elements, needs {bNeeded}.", "b");
        if (cLength < cNeeded) throw new ArgumentException($"C has {cLength} elements, needs {cNeeded}.", "c");
    }
}
