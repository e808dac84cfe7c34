using BenchmarkDotNet.Running;
using Federated.Core.Diagnostics;

// `quick [threads...]`: GemmBench table (no BenchmarkDotNet), for side-by-side runs with numpy/OpenBLAS.
if (args.Length > 0 && args[0] == "quick")
{
    var threadCounts = args.Length > 1 ? args[1..].Select(int.Parse).ToArray() : [1, 2];
    foreach (int t in threadCounts)
    {
        foreach (var r in GemmBench.RunSquares(GemmBench.SquareSizes, t))
            Console.WriteLine($"threads={t} {r.Op,-3} m={r.M,5} k={r.K,5} n={r.N,5}: {r.BestSeconds * 1e3,8:F3} ms  {r.GFlops,6:F1} GFLOP/s (median {2.0 * r.M * r.N * r.K / r.MedianSeconds / 1e9:F1})");
        foreach (var (op, m, k, n) in GemmBench.ModelShapes)
        {
            var r = GemmBench.Run(op, m, k, n, t);
            Console.WriteLine($"threads={t} {r.Op,-3} m={r.M,5} k={r.K,5} n={r.N,5}: {r.BestSeconds * 1e3,8:F3} ms  {r.GFlops,6:F1} GFLOP/s (median {2.0 * r.M * r.N * r.K / r.MedianSeconds / 1e9:F1})");
        }
    }
    return;
}

// Tuning aid: GEMM_KC / GEMM_TILEM / GEMM_TILEN / GEMM_SMALLPAR override the blocking (TileM a multiple of 6, TileN of 64).
if (Environment.GetEnvironmentVariable("GEMM_KC") is { } kc) Federated.Core.Kernels.MatMul.KC = int.Parse(kc);
if (Environment.GetEnvironmentVariable("GEMM_TILEM") is { } tm) Federated.Core.Kernels.MatMul.TileM = int.Parse(tm);
if (Environment.GetEnvironmentVariable("GEMM_TILEN") is { } tn) Federated.Core.Kernels.MatMul.TileN = int.Parse(tn);
// GEMM_SMALLPAR: multiply-adds from which the small (m < 6) path uses more than one thread.
if (Environment.GetEnvironmentVariable("GEMM_SMALLPAR") is { } sp) Federated.Core.Kernels.MatMul.SmallParallelWork = long.Parse(sp);

// `shape OP M K N THREADS`: one GemmBench line.
if (args.Length == 6 && args[0] == "shape")
{
    var r = GemmBench.Run(args[1], int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]), int.Parse(args[5]), 2.0);
    Console.WriteLine($"threads={r.Threads} {r.Op,-3} m={r.M,5} k={r.K,5} n={r.N,5}: {r.BestSeconds * 1e3,8:F3} ms  {r.GFlops,6:F1} GFLOP/s (median {2.0 * r.M * r.N * r.K / r.MedianSeconds / 1e9:F1})");
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
