using System.Runtime.Intrinsics;

namespace Federated.Core.Kernels;

/// <summary>Which of the three products; fixes how A(i,p) and B(p,j) are addressed.</summary>
internal enum GemmOp { ABt, AB, AtB }

/// <summary>Vector width of the micro-kernel, chosen at run time (tests force the narrower ones).</summary>
internal enum GemmIsa { Scalar, Vector128, Vector256, Vector512 }

/// <summary>Which algorithm: chosen by shape (Auto), or forced by tests to cover both on every shape.</summary>
internal enum GemmPath { Auto, Small, Packed }

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
        int m, int k, int n, bool accumulate, int threads, GemmIsa isa, GemmPath path = GemmPath.Auto)
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
            if (path == GemmPath.Small || (path == GemmPath.Auto && (UseSmallPath(m, k, n) || (op == GemmOp.ABt && n < 16))))
            {
                Small(op, new GemmArgs(pa, ars, acs, pb, brs, bcs, pc, m, k, n, accumulate, isa, n, 1), threads);
            }
            else if (n < NR / 2 && m > n)
            {
                // Narrow C (LoRA rank, a few columns): NR = 64 columns per tile would waste 64/n of the work, so
                // compute Cᵀ[n,m] = Bᵀ·Aᵀ instead (swap operands and strides; C written transposed).
                Packed(new GemmArgs(pb, bcs, brs, pa, acs, ars, pc, n, k, m, accumulate, isa, 1, n), threads);
            }
            else
            {
                Packed(new GemmArgs(pa, ars, acs, pb, brs, bcs, pc, m, k, n, accumulate, isa, n, 1), threads);
            }
        }
    }

    /// <summary>
    /// Packing pays once a B panel is reused over enough rows and a C tile over enough k:
    /// decode-time m = 1..5 (matrix-vector) and tiny products take the direct vectorised path (as does ABt with
    /// n &lt; 16, e.g. x·Aᵀ of LoRA: one dot product per element, the B rows staying in L1).
    /// </summary>
    private static bool UseSmallPath(int m, int k, int n) =>
        m < 6 || (long)m * n * k < 48 * 48 * 48;
}

/// <summary>Pointers and strides of one product; A(i,p) = a[i·ars + p·acs], B(p,j) = b[p·brs + j·bcs].</summary>
internal readonly unsafe struct GemmArgs(float* a, int ars, int acs, float* b, int brs, int bcs, float* c,
    int m, int k, int n, bool accumulate, GemmIsa isa, int crs, int ccs)
{
    public readonly float* A = a;
    public readonly int Ars = ars, Acs = acs;
    public readonly float* B = b;
    public readonly int Brs = brs, Bcs = bcs;
    public readonly float* C = c;
    /// <summary>C(i,j) = c[i·Crs + j·Ccs]: (n, 1) normally, (1, m) when the product is computed transposed.</summary>
    public readonly int Crs = crs, Ccs = ccs;
    public readonly int M = m, K = k, N = n;
    public readonly bool Accumulate = accumulate;
    public readonly GemmIsa Isa = isa;
}
