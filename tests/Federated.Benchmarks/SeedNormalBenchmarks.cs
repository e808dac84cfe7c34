using BenchmarkDotNet.Attributes;
using Federated.Core.Seeds;

namespace Federated.Benchmarks;

/// <summary>
/// Seed-protocol throughput, reported per normal (OperationsPerInvoke = elements): Fill / AddScaled on each kernel path.
/// A ZO step on a model of |w| parameters regenerates 4·|w| normals (+ε, −2ε, +ε, update).
/// Run: dotnet run -c Release --project tests/Federated.Benchmarks -- --filter '*SeedNormal*' --job short
/// Min is reported beside Mean: on a shared machine it is the better estimate of uncontended throughput.
/// </summary>
[MinColumn]
public class SeedNormalBenchmarks
{
    private const int Length = 1 << 22;
    private readonly float[] _data = new float[Length];

    /// <summary>0 = scalar, 1 = 128-bit (SSE2/AdvSimd), 2 = AVX2, 3 = AVX-512 (SeedNormal.Path).</summary>
    [Params(0, 1, 2, 3)]
    public int PathIndex { get; set; }

    [Benchmark(OperationsPerInvoke = Length)]
    public void Fill() => SeedNormal.Run(42, 3, 0, _data, 0f, add: false, (SeedNormal.Path)PathIndex);

    [Benchmark(OperationsPerInvoke = Length)]
    public void AddScaled() => SeedNormal.Run(42, 3, 0, _data, 1e-3f, add: true, (SeedNormal.Path)PathIndex);
}

/// <summary>AddScaledParallel on the best path with 1 and 2 threads (chunks of SeedNormal.ParallelChunk).</summary>
[MinColumn]
public class SeedNormalParallelBenchmarks
{
    private const int Length = 1 << 22;
    private readonly float[] _data = new float[Length];

    [Params(1, 2)]
    public int Threads { get; set; }

    [Benchmark(OperationsPerInvoke = Length)]
    public void AddScaledParallel() => SeedNormal.AddScaledParallel(42, 3, 0, _data, 1e-3f, Threads);
}
