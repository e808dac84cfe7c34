namespace Federated.Core.Tests.Kernels;

/// <summary>
/// Central finite differences for float32 kernels. The scalar objective is L = Σ r ⊙ y with fixed random r, summed in
/// float64. With step h = 1e-2 the truncation error is O(h²) ≈ 1e-4 relative and the float32 rounding error of L is
/// about 1e-7·Σ|r y| / h ≈ 1e-4, so a tolerance of 2e-3·(1 + |g|) is sound while a wrong formula misses by far more.
/// </summary>
internal static class GradientCheck
{
    public const float Step = 1e-2f;

    public static float[] Random(Random rng, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static double Dot(ReadOnlySpan<float> r, ReadOnlySpan<float> y)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += (double)r[i] * y[i];
        return s;
    }

    /// <summary>Compares analytic[i] with (L(x+h) − L(x−h)) / 2h for every element of x.</summary>
    public static void Check(float[] x, ReadOnlySpan<float> analytic, Func<double> loss, string name, double tolerance = 2e-3)
    {
        Assert.Equal(x.Length, analytic.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = v + Step;
            double plus = loss();
            x[i] = v - Step;
            double minus = loss();
            x[i] = v;
            double fd = (plus - minus) / (2 * Step);
            double diff = Math.Abs(fd - analytic[i]);
            Assert.True(diff <= tolerance * (1 + Math.Abs(fd)),
                $"{name}[{i}]: finite difference {fd:G6}, analytic {analytic[i]:G6} (diff {diff:G3}).");
        }
    }
}
