using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Federated.Core.Kernels;

namespace Federated.Benchmarks;

/// <summary>
/// C = A·Bᵀ (the forward x·Wᵀ) at square and model shapes: the packed GEMM (<see cref="MatMul.ABt"/>, all threads of
/// <see cref="EngineThreads.Count"/>) against a simple single-threaded baseline of one TensorPrimitives.Dot per
/// output element. The GFLOP/s column is 2·m·n·k / mean time.
/// Run: dotnet run -c Release --project tests/Federated.Benchmarks -- --filter '*GemmBenchmarks*'
/// </summary>
[Config(typeof(GemmConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>"m,k,n": squares 256..2048 and transformer shapes (1024 tokens, dim 512, ffn 1376, vocab 8192).</summary>
    [Params("256,256,256", "512,512,512", "1024,1024,1024", "2048,2048,2048",
        "1024,512,512", "1024,512,1376", "1024,1376,512", "1024,512,8192", "1,512,8192", "1024,8,512", "1024,512,8")]
    public string Shape { get; set; } = "256,256,256";

    internal (int M, int K, int N) Dims
    {
        get
        {
            var p = Shape.Split(',');
            return (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var (m, k, n) = Dims;
        var rng = new Random(42);
        _a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _b = Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _c = new float[m * n];
    }

    [Benchmark(Description = "MatMul.ABt (packed)")]
    public void Packed()
    {
        var (m, k, n) = Dims;
        MatMul.ABt(_a, _b, _c, m, k, n);
    }

    [Benchmark(Baseline = true, Description = "TensorPrimitives.Dot per element")]
    public void DotBaseline()
    {
        var (m, k, n) = Dims;
        for (int i = 0; i < m; i++)
        {
            var row = _a.AsSpan(i * k, k);
            for (int j = 0; j < n; j++) _c[i * n + j] = TensorPrimitives.Dot(row, _b.AsSpan(j * k, k));
        }
    }

    private sealed class GemmConfig : ManualConfig
    {
        public GemmConfig() => AddColumn(new GFlopsColumn());
    }

    /// <summary>2·m·n·k / mean time, from the Shape parameter.</summary>
    private sealed class GFlopsColumn : IColumn
    {
        public string Id => "GFLOPS";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "2·m·n·k / mean time, in 10⁹ floating-point operations per second";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } stats) return "-";
            var p = ((string)benchmarkCase.Parameters["Shape"]).Split(',');
            double flops = 2.0 * double.Parse(p[0]) * double.Parse(p[1]) * double.Parse(p[2]);
            return (flops / (stats.Mean * 1e-9) / 1e9).ToString("F1");
        }
    }
}
