using System.Runtime.Intrinsics;

namespace Federated.Core.Kernels;

/// <summary>Which of the three products; fixes how A(i,p) and B(p,j) are addressed.</summary>
internal enum GemmOp { ABt, AB, AtB }

/// <summary>Vector width of the micro-kernel, chosen at run time (tests force the narrower ones).</summary>
internal enum GemmIsa { Scalar, Vector128, Vector256, Vector512 }

public static partial class MatMul
{
    /// <summary>The widest accelerated vector width of this machine.</summary>
    internal static readonly GemmIsa BestIsa =
        Vector512.IsHardwareAccelerated ? GemmIsa.Vector512 :
        Vector256.IsHardwareAccelerated ? GemmIsa.Vector256 :
        Vector128.IsHardwareAccelerated ? GemmIsa.Vector128 : GemmIsa.Scalar;

    /// <summary>
    /// Shared entry of the three products with the thread count and vector width explicit (tests pass them).
    /// A(i,p) = a[i·ars + p·acs], B(p,j) = b[p·brs + j·bcs], C(i,j) = c[i·n + j].
    /// </summary>
    internal static unsafe void Gemm(GemmOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool accumulate, int threads, GemmIsa isa)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        var (ars, acs) = op == GemmOp.AtB ? (1, m) : (k, 1);
        var (brs, bcs) = op == GemmOp.ABt ? (1, k) : (n, 1);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var g = new GemmArgs(pa, ars, acs, pb, brs, bcs, pc, m, k, n, accumulate, isa);
            if (UseSmallPath(m, k, n, isa)) Small(op, g, threads);
            else Packed(g, threads);
        }
    }

    /// <summary>
    /// Packing pays once a B panel is reused over enough rows and a C tile over enough k:
    /// decode-time m = 1..5 (matrix-vector) and tiny products take the direct vectorised path.
    /// </summary>
    private static bool UseSmallPath(int m, int k, int n, GemmIsa isa) =>
        m < 6 || (long)m * n * k < 48 * 48 * 48;
}

/// <summary>Pointers and strides of one product; A(i,p) = a[i·ars + p·acs], B(p,j) = b[p·brs + j·bcs].</summary>
internal readonly unsafe struct GemmArgs(float* a, int ars, int acs, float* b, int brs, int bcs, float* c,
    int m, int k, int n, bool accumulate, GemmIsa isa)
{
    public readonly float* A = a;
    public readonly int Ars = ars, Acs = acs;
    public readonly float* B = b;
    public readonly int Brs = brs, Bcs = bcs;
    public readonly float* C = c;
    public readonly int M = m, K = k, N = n;
    public readonly bool Accumulate = accumulate;
    public readonly GemmIsa Isa = isa;
}
