using Federated.Core.Kernels;

namespace Federated.Core.Tests.Kernels;

/// <summary>
/// The fast products against <see cref="MatMul.Reference"/> (plain loops, float64 accumulation; an independent
/// implementation). Tolerance per output element, from the worst-case bound of float32 recursive summation:
///   |fast − reference| ≤ (k + 2) · 2⁻²³ · (Σ_p |A(i,p)|·|B(p,j)| + |C₀(i,j)|)
/// (C₀ = the initial C when accumulating). A wrong or missing term is ~Σ/k, far above this bound.
/// </summary>
public class MatMulParityTests
{
    public static TheoryData<int, int, int> TailShapes()
    {
        // Every length 0..136 in each dimension in turn, then every third one up to 257 plus the block edges
        // (covers every vector, micro-kernel, KC and tile tail), the other two held at odd sizes.
        var data = new TheoryData<int, int, int>();
        var lengths = Enumerable.Range(0, 137).Concat(Enumerable.Range(137, 121).Where(d => d % 3 == 0))
            .Concat([191, 192, 193, 255, 256, 257]).Distinct();
        foreach (int d in lengths)
        {
            data.Add(d, 37, 70);  // m varies
            data.Add(13, 29, d);  // n varies
            data.Add(7, d, 67);   // k varies
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TailShapes))]
    public void Gemm_EveryTail_MatchesReference(int m, int k, int n)
    {
        foreach (var op in new[] { GemmOp.ABt, GemmOp.AB, GemmOp.AtB })
        foreach (bool accumulate in new[] { false, true })
        foreach (var path in new[] { GemmPath.Small, GemmPath.Packed })
            AssertMatches(op, m, k, n, accumulate, threads: 2, MatMul.BestIsa, seed: m * 1000003 + k * 1009 + n, path);
    }

    [Theory]
    [InlineData(197, 1031, 263)]
    [InlineData(300, 520, 130)]
    [InlineData(96, 256, 256)]
    [InlineData(97, 257, 257)]
    [InlineData(1, 700, 3000)]
    [InlineData(5, 300, 700)]
    [InlineData(640, 8, 512)]
    [InlineData(512, 96, 8)]
    [InlineData(130, 600, 1)]
    public void Gemm_LargeAndModelLikeShapes_MatchReference(int m, int k, int n)
    {
        foreach (var op in new[] { GemmOp.ABt, GemmOp.AB, GemmOp.AtB })
        foreach (bool accumulate in new[] { false, true })
            AssertMatches(op, m, k, n, accumulate, threads: 2, MatMul.BestIsa, seed: 7 + m + k + n);
    }

    // GemmIsa is internal: the theory takes its number (0 scalar, 1 Vector128, 2 Vector256, 3 Vector512).
    public static TheoryData<int> Isas() => new() { 0, 1, 2, 3 };

    [Theory]
    [MemberData(nameof(Isas))]
    public void Gemm_EachVectorWidth_MatchesReference(int isaNumber)
    {
        var isa = (GemmIsa)isaNumber;
        // Arrange: only widths this machine runs natively are meaningful (wider ones would be emulated).
        if (isa > MatMul.BestIsa) return;
        int[] sizes = [6, 7, 11, 17, 31, 33, 63, 64, 65, 97, 129];
        // Act + Assert
        foreach (int m in sizes)
        foreach (int n in new[] { 1, 9, 17, 64, 65, 130 })
        foreach (var op in new[] { GemmOp.ABt, GemmOp.AB, GemmOp.AtB })
            AssertMatches(op, m, 53, n, accumulate: (m + n) % 2 == 0, threads: 1, isa, seed: m * 31 + n, GemmPath.Packed);
        AssertMatches(GemmOp.ABt, 70, 300, 140, accumulate: false, threads: 2, isa, seed: 5, GemmPath.Packed);
        foreach (int k in new[] { 1, 7, 8, 15, 16, 17, 33, 100 })
        foreach (int n in new[] { 1, 3, 4, 5, 9 })
            AssertMatches(GemmOp.ABt, 3, k, n, accumulate: n % 2 == 0, threads: 1, isa, seed: k * 7 + n, GemmPath.Small);
    }

    [Fact]
    public void PublicApi_ModelShape_MatchesReference()
    {
        // Arrange
        const int m = 100, k = 300, n = 200;
        var a = Random(m * k, 1); var b = Random(k * n, 2);
        var expected = new float[m * n]; var actual = new float[m * n];
        // Act
        MatMul.Reference.ABt(a, b, expected, m, k, n);
        MatMul.ABt(a, b, actual, m, k, n);
        // Assert
        AssertWithinBound(GemmOp.ABt, a, b, new float[m * n], expected, actual, m, k, n, "ABt public");
    }

    [Fact]
    public void Gemm_ShortBuffer_ThrowsArgumentException()
    {
        var a = new float[10]; var b = new float[10]; var c = new float[10];
        Assert.Throws<ArgumentException>(() => MatMul.ABt(a, b, c, 4, 3, 3));
        Assert.Throws<ArgumentException>(() => MatMul.AB(a, b, c, 2, 3, 6));
        Assert.Throws<ArgumentException>(() => MatMul.AtB(a, b, c, 3, 5, 3));
    }

    internal static void AssertMatches(GemmOp op, int m, int k, int n, bool accumulate, int threads, GemmIsa isa, int seed,
        GemmPath path = GemmPath.Auto)
    {
        // Arrange
        var a = Random(m * k, seed);
        var b = Random(k * n, seed + 1);
        var c0 = accumulate ? Random(m * n, seed + 2) : new float[m * n];
        var expected = (float[])c0.Clone();
        var actual = accumulate ? (float[])c0.Clone() : Filled(m * n, float.NaN);
        // Act
        switch (op)
        {
            case GemmOp.ABt: MatMul.Reference.ABt(a, b, expected, m, k, n, accumulate); break;
            case GemmOp.AB: MatMul.Reference.AB(a, b, expected, m, k, n, accumulate); break;
            default: MatMul.Reference.AtB(a, b, expected, m, k, n, accumulate); break;
        }
        MatMul.Gemm(op, a, b, actual, m, k, n, accumulate, threads, isa, path);
        // Assert
        AssertWithinBound(op, a, b, c0, expected, actual, m, k, n, $"{op} m={m} k={k} n={n} acc={accumulate} {isa} {path}");
    }

    private static void AssertWithinBound(GemmOp op, float[] a, float[] b, float[] c0, float[] expected, float[] actual,
        int m, int k, int n, string name)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double magnitude = Math.Abs(c0[i * n + j]);
            for (int p = 0; p < k; p++)
            {
                float aip = op == GemmOp.AtB ? a[p * m + i] : a[i * k + p];
                float bpj = op == GemmOp.ABt ? b[j * k + p] : b[p * n + j];
                magnitude += Math.Abs((double)aip * bpj);
            }
            double bound = (k + 2) * Math.Pow(2, -23) * magnitude;
            double diff = Math.Abs((double)actual[i * n + j] - expected[i * n + j]);
            if (!(diff <= bound))
                Assert.Fail($"{name}: C[{i},{j}] = {actual[i * n + j]}, reference {expected[i * n + j]}, |diff| {diff:G3} > bound {bound:G3}");
        }
    }

    internal static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Filled(int length, float value)
    {
        var x = new float[length];
        Array.Fill(x, value);
        return x;
    }
}
