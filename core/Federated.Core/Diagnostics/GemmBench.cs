using System.Diagnostics;
using Federated.Core.Kernels;

namespace Federated.Core.Diagnostics;

/// <summary>One timed product: shape, best time over the repeats, and the rate 2·m·n·k / time.</summary>
public sealed record GemmBenchResult(string Op, int M, int K, int N, int Threads, double BestSeconds, double MedianSeconds)
{
    /// <summary>Billions of floating-point operations per second at the best time.</summary>
    public double GFlops => 2.0 * M * N * K / BestSeconds / 1e9;
}

/// <summary>
/// Times <see cref="MatMul"/> on square and model shapes with warm-up and repeats, for <c>federated bench</c>
/// and docs/performance.md. Each shape runs for about <c>secondsPerShape</c>; the best call is reported
/// (least disturbed by other processes on a shared machine), the median beside it.
/// </summary>
public static class GemmBench
{
    /// <summary>The default square sizes: 256, 512, 1024, 2048.</summary>
    public static IReadOnlyList<int> SquareSizes { get; } = [256, 512, 1024, 2048];

    /// <summary>Transformer shapes (op, m tokens, k, n): forward x·Wᵀ and the two backward products.</summary>
    public static IReadOnlyList<(string Op, int M, int K, int N)> ModelShapes { get; } =
    [
        ("ABt", 1024, 512, 512), ("ABt", 1024, 512, 1376), ("ABt", 1024, 1376, 512), ("ABt", 1024, 512, 8192),
        ("AB", 1024, 512, 512), ("AB", 1024, 1376, 512), ("AtB", 512, 1024, 512), ("AtB", 1376, 1024, 512),
        ("ABt", 1, 512, 8192), ("ABt", 1024, 8, 512), ("ABt", 1024, 512, 8),
    ];

    /// <summary>Times C = A·B (the AB op) for each square size.</summary>
    public static List<GemmBenchResult> RunSquares(IEnumerable<int> sizes, int threads, double secondsPerShape = 1.0) =>
        sizes.Select(s => Run("AB", s, s, s, threads, secondsPerShape)).ToList();

    /// <summary>Times one product (op = "ABt", "AB" or "AtB") on <paramref name="threads"/> threads.</summary>
    public static GemmBenchResult Run(string op, int m, int k, int n, int threads, double secondsPerShape = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var kind = op switch
        {
            "ABt" => GemmOp.ABt,
            "AB" => GemmOp.AB,
            "AtB" => GemmOp.AtB,
            _ => throw new ArgumentException($"Unknown GEMM op '{op}'; expected ABt, AB or AtB.", nameof(op)),
        };
        var rng = new System.Random(1234);
        var a = new float[(long)m * k];
        var b = new float[(long)k * n];
        var c = new float[(long)m * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;

        void Once() => MatMul.Gemm(kind, a, b, c, m, k, n, false, threads, MatMul.BestIsa);

        // Warm-up: tiering to optimised code and the packing buffers.
        var warm = Stopwatch.StartNew();
        do Once(); while (warm.Elapsed.TotalSeconds < Math.Min(0.3, secondsPerShape / 2));

        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || (total.Elapsed.TotalSeconds < secondsPerShape && times.Count < 10_000))
        {
            long t0 = Stopwatch.GetTimestamp();
            Once();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        times.Sort();
        return new GemmBenchResult(op, m, k, n, threads, times[0], times[times.Count / 2]);
    }
}
