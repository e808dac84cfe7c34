using Federated.Core.Kernels;

namespace Federated.Core.Tests.Kernels;

public class MatMulThreadingTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 300, 517, 333 },   // packed path, several tiles and KC slices
        { 1024, 64, 520 },   // packed path, many row tiles
        { 4, 512, 5000 },    // small path, parallel over column chunks (over 8M multiply-adds)
        { 1, 600, 1001 },    // decode x·Wᵀ: parallel from 512K multiply-adds, prefetching, k and column tails
        { 5, 1376, 203 },    // small path, k past the prefetch limit, 5 rows per item
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_ThreadCounts123_BitIdentical(int m, int k, int n)
    {
        foreach (var op in new[] { GemmOp.ABt, GemmOp.AB, GemmOp.AtB })
        {
            // Arrange
            var a = MatMulParityTests.Random(m * k, 11);
            var b = MatMulParityTests.Random(k * n, 12);
            var c0 = MatMulParityTests.Random(m * n, 13);
            var results = new List<float[]>();
            // Act
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var c = (float[])c0.Clone();
                MatMul.Gemm(op, a, b, c, m, k, n, accumulate: true, threads, MatMul.BestIsa);
                results.Add(c);
            }
            // Assert
            Assert.Equal(results[0], results[1]);
            Assert.Equal(results[0], results[2]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Gemm_AfterWarmUp_AllocatesNothing(int threads)
    {
        // Arrange
        const int m = 200, k = 300, n = 260;
        var a = MatMulParityTests.Random(m * k, 1);
        var b = MatMulParityTests.Random(k * n, 2);
        var c = new float[m * n];
        var small = new float[8192];
        GemmOp[] ops = [GemmOp.ABt, GemmOp.AB, GemmOp.AtB];
        void All()
        {
            foreach (var op in ops)
            {
                MatMul.Gemm(op, a, b, c, m, k, n, false, threads, MatMul.BestIsa);
                MatMul.Gemm(op, a, b, small, 1, k, n, true, threads, MatMul.BestIsa);
            }
        }
        All();
        All();
        // Act
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 3; r++) All();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Assert
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Gemm_ConcurrentCallers_SameBitsAsAlone()
    {
        // Arrange: four callers share the pool (the busy ones run inline on their own thread).
        const int m = 150, k = 333, n = 270;
        var a = MatMulParityTests.Random(m * k, 21);
        var b = MatMulParityTests.Random(k * n, 22);
        var expected = new float[m * n];
        MatMul.Gemm(GemmOp.ABt, a, b, expected, m, k, n, false, 1, MatMul.BestIsa);
        var results = new float[4][];
        // Act
        var callers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var c = new float[m * n];
            for (int r = 0; r < 5; r++) MatMul.Gemm(GemmOp.ABt, a, b, c, m, k, n, false, 2, MatMul.BestIsa);
            results[t] = c;
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());
        // Assert
        foreach (var c in results) Assert.Equal(expected, c);
    }

    [Fact]
    public void EngineThreads_Zero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineThreads.Count = 0);
    }
}
