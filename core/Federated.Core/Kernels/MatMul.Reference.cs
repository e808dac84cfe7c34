namespace Federated.Core.Kernels;

public static partial class MatMul
{
    /// <summary>
    /// The reference kernels: plain loops, float64 accumulation per output element, no threads.
    /// They define what the fast kernels must compute; keep them obviously correct, never fast.
    /// </summary>
    public static class Reference
    {
        /// <summary>C[m,n] (+)= A[m,k] · B[n,k]ᵀ.</summary>
        public static void ABt(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
        {
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * k + p] * b[j * k + p];
                c[i * n + j] = accumulate ? c[i * n + j] + (float)sum : (float)sum;
            }
        }

        /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
        public static void AB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
        {
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * k + p] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + (float)sum : (float)sum;
            }
        }

        /// <summary>C[m,n] (+)= A[k,m]ᵀ · B[k,n].</summary>
        public static void AtB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
        {
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[p * m + i] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + (float)sum : (float)sum;
            }
        }
    }
}
