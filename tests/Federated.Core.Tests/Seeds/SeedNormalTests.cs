using Federated.Core.Seeds;
using Xunit.Abstractions;

namespace Federated.Core.Tests.Seeds;

public class SeedNormalTests(ITestOutputHelper output)
{
    // Golden z values of seed protocol v1, computed once by tools/seed-protocol/golden.py: an independent pure-Python
    // implementation written from docs/seed-protocol.md (Philox with Python ints, every float32 op emulated in float64
    // and rounded with struct, which is exact for + − × ÷ sqrt). Exact bit equality is required.
    public static TheoryData<ulong, int, long, uint> Golden => new()
    {
        { 0x0000000000000000UL, 0, 0L, 0xBE382F52u },            // -0.17986801
        { 0x0000000000000000UL, 0, 1L, 0x3FE22888u },            // 1.7668619
        { 0x0000000000000000UL, 0, 2L, 0x3F0D0805u },            // 0.55090362
        { 0x0000000000000000UL, 0, 3L, 0x3E87B7FFu },            // 0.26507565
        { 0x000000000000002AUL, 0, 0L, 0x405504EFu },            // 3.3284261
        { 0x000000000000002AUL, 0, 5L, 0xBF399759u },            // -0.72496563
        { 0x000000000000002AUL, 3, 1001L, 0xC0216CB3u },         // -2.5222595
        { 0x0123456789ABCDEFUL, 7, 123456789L, 0x3F5852C7u },    // 0.84501308
        { 0xFFFFFFFFFFFFFFFFUL, 2147483647, 549755813887L, 0xBFBAEE2Au }, // -1.4603932
        { 0x000000174876E7FFUL, 1, 17179869186L, 0x3EAA8A87u },  // 0.33308813
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void At_GoldenKey_MatchesIndependentImplementationBitForBit(ulong seed, int tensor, long element, uint expectedBits)
    {
        // Act
        float z = SeedNormal.At(seed, tensor, element);
        var bulk = new float[3];
        SeedNormal.Fill(seed, tensor, element, bulk);

        // Assert
        Assert.Equal(expectedBits, BitConverter.SingleToUInt32Bits(z));
        Assert.Equal(expectedBits, BitConverter.SingleToUInt32Bits(bulk[0]));
    }

    [Fact]
    public void Fill_LongRunOnEveryPath_MatchesIndependentImplementationHash()
    {
        // Arrange: FNV-1a 64 over the little-endian bits of z(2024, 9, 1..1027), printed by tools/seed-protocol/golden.py.
        // Offset 1 and length 1027 cover a head, the 64-wide loop and every narrower loop and tail.
        const ulong expected = 0xCFF95579BD968122UL;
        var z = new float[1027];

        foreach (var path in Enum.GetValues<SeedNormal.Path>())
        {
            if (path > SeedNormal.BestPath) continue;

            // Act
            SeedNormal.Run(2024, 9, 1, z, 0f, add: false, path);
            ulong hash = 0xCBF29CE484222325UL;
            foreach (byte b in System.Runtime.InteropServices.MemoryMarshal.AsBytes(z.AsSpan()))
                hash = (hash ^ b) * 0x100000001B3UL;

            // Assert
            Assert.True(expected == hash, $"{path}: hash 0x{hash:X16}, expected 0x{expected:X16}.");
        }
    }

    [Fact]
    public void Constants_FloatLiterals_HaveTheSpecifiedBitPatterns()
    {
        // Arrange: bit patterns from docs/seed-protocol.md §4 (printed by golden.py)
        (float Value, uint Bits)[] constants =
        [
            (SeedNormal.TwoM24, 0x33800000), (SeedNormal.Ln2, 0x3F317218),
            (SeedNormal.L3, 0x3F2AAAAB), (SeedNormal.L5, 0x3ECCCCCD), (SeedNormal.L7, 0x3E924925), (SeedNormal.L9, 0x3E638E39),
            (SeedNormal.S1, 0x40C90FDB), (SeedNormal.S3, 0xC2255DE7), (SeedNormal.S5, 0x42A335E3), (SeedNormal.S7, 0xC2996966),
            (SeedNormal.S9, 0x42283C1A), (SeedNormal.C2, 0xC19DE9E6), (SeedNormal.C4, 0x4281E0F8), (SeedNormal.C6, 0xC2AAE9E4),
            (SeedNormal.C8, 0x4270FA83), (SeedNormal.C10, 0xC1D368F9),
        ];

        // Assert
        foreach (var (value, bits) in constants)
            Assert.Equal(bits, BitConverter.SingleToUInt32Bits(value));
    }

    public static TheoryData<int> Paths => new()
    {
        (int)SeedNormal.Path.Scalar, (int)SeedNormal.Path.Vector128, (int)SeedNormal.Path.Vector256, (int)SeedNormal.Path.Vector512,
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Run_EveryLengthAndOffset_EqualsScalarDefinitionBitForBit(int pathValue)
    {
        // Arrange
        var path = (SeedNormal.Path)pathValue;
        if (path == SeedNormal.Path.Vector512 && !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        if (path == SeedNormal.Path.Vector256 && !System.Runtime.Intrinsics.X86.Avx2.IsSupported) return;
        if (path == SeedNormal.Path.Vector128 && !System.Runtime.Intrinsics.X86.Sse2.IsSupported
            && !System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported) return;
        const ulong seed = 0x9E3779B97F4A7C15UL;
        long[] offsets = [0, 1, 2, 3, 5, 4093, (1L << 34) - 7];
        var expected = new float[257 + 3];
        var fill = new float[257];
        var add = new float[257];

        foreach (long offset in offsets)
        {
            for (int j = 0; j < expected.Length; j++) expected[j] = SeedNormal.At(seed, 5, offset + j);
            for (int length = 0; length <= 257; length++)
            {
                // Act
                SeedNormal.Run(seed, 5, offset, fill.AsSpan(0, length), 0f, add: false, path);
                for (int j = 0; j < length; j++) add[j] = 0.25f * j - 3f;
                SeedNormal.Run(seed, 5, offset, add.AsSpan(0, length), -1.5f, add: true, path);

                // Assert
                for (int j = 0; j < length; j++)
                {
                    if (BitConverter.SingleToUInt32Bits(fill[j]) != BitConverter.SingleToUInt32Bits(expected[j]))
                        Assert.Fail($"{path} fill: offset {offset}, length {length}, index {j}: {fill[j]:R} != {expected[j]:R}");
                    float want = (0.25f * j - 3f) + -1.5f * expected[j];
                    if (BitConverter.SingleToUInt32Bits(add[j]) != BitConverter.SingleToUInt32Bits(want))
                        Assert.Fail($"{path} add: offset {offset}, length {length}, index {j}: {add[j]:R} != {want:R}");
                }
            }
        }
    }

    [Fact]
    public void Run_BlockIndexCrossesTwoToThe32_CarriesIntoHighCounterWord()
    {
        // Arrange: block 2^32 − 3 .. 2^32 + 12 straddles the low-word wrap inside one AVX-512 iteration.
        long offset = ((1L << 32) - 3) * 4;
        var bulk = new float[64];

        // Act
        SeedNormal.Fill(7, 2, offset, bulk);

        // Assert
        for (int j = 0; j < bulk.Length; j++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(SeedNormal.At(7, 2, offset + j)), BitConverter.SingleToUInt32Bits(bulk[j]));
    }

    [Fact]
    public void AddScaledParallel_AnyThreadCount_EqualsSerialBitForBit()
    {
        // Arrange
        int length = 3 * SeedNormal.ParallelChunk + 123;
        var serial = new float[length];
        for (int i = 0; i < length; i++) serial[i] = (i % 17) * 0.01f;
        var one = (float[])serial.Clone();
        var many = (float[])serial.Clone();
        var filled = new float[length];
        var filledParallel = new float[length];

        // Act
        SeedNormal.AddScaled(11, 3, 6, serial, 0.001f);
        SeedNormal.AddScaledParallel(11, 3, 6, one, 0.001f, maxDegreeOfParallelism: 1);
        SeedNormal.AddScaledParallel(11, 3, 6, many, 0.001f, maxDegreeOfParallelism: 4);
        SeedNormal.Fill(11, 3, 6, filled);
        SeedNormal.FillParallel(11, 3, 6, filledParallel);

        // Assert
        Assert.True(serial.AsSpan().SequenceEqual(one));
        Assert.True(serial.AsSpan().SequenceEqual(many));
        Assert.True(filled.AsSpan().SequenceEqual(filledParallel));
    }

    [Fact]
    public void AddScaledTensors_MixedSizes_EqualsPerTensorAddScaled()
    {
        // Arrange: tensors of sizes 0, 7, 2 chunks + 5, 1, 64 laid out with gaps; tensor indices not in arena order.
        int big = 2 * SeedNormal.ParallelChunk + 5;
        SeedTensor[] tensors = [new(0, 3, 0), new(4, 10, 7), new(1, 20, big), new(2, 30 + big, 1), new(3, 40 + big, 64)];
        var arena = new float[200 + big];
        for (int i = 0; i < arena.Length; i++) arena[i] = i * 1e-4f;
        var expected = (float[])arena.Clone();
        foreach (var t in tensors)
            SeedNormal.AddScaled(77, t.TensorIndex, 0, expected.AsSpan((int)t.Offset, t.Length), -0.01f);

        // Act
        SeedNormal.AddScaledTensors(77, arena, tensors, -0.01f, maxDegreeOfParallelism: 3);

        // Assert
        Assert.True(expected.AsSpan().SequenceEqual(arena));
        Assert.Throws<ArgumentException>(() => SeedNormal.AddScaledTensors(1, arena, [new SeedTensor(0, arena.Length - 2, 3)], 1f));
    }

    [Fact]
    public void Fill_MillionDraws_MomentsMatchStandardNormal()
    {
        // Arrange
        const int n = 1 << 20;
        var z = new float[n];

        // Act
        SeedNormal.Fill(123, 0, 0, z);
        double sum = 0, sum2 = 0, sum4 = 0, lag = 0;
        for (int i = 0; i < n; i++)
        {
            double v = z[i];
            sum += v; sum2 += v * v; sum4 += v * v * v * v;
            if (i > 0) lag += v * z[i - 1];
        }
        double mean = sum / n, variance = sum2 / n - mean * mean, kurtosis = sum4 / n, lagCorrelation = lag / (n - 1);
        output.WriteLine($"mean {mean:G4} variance {variance:G6} E[z^4] {kurtosis:G5} lag-1 {lagCorrelation:G4}");

        // Assert: 5 standard errors (mean 1/√n ≈ 1e−3; variance √(2/n) ≈ 1.4e−3; E z⁴ √(96/n) ≈ 9.6e−3; lag 1/√n).
        Assert.InRange(mean, -5e-3, 5e-3);
        Assert.InRange(variance, 1 - 7e-3, 1 + 7e-3);
        Assert.InRange(kurtosis, 3 - 0.05, 3 + 0.05);
        Assert.InRange(lagCorrelation, -5e-3, 5e-3);
    }

    [Theory]
    [InlineData(1UL, 0, 1UL, 1)]      // neighbouring tensors, same seed
    [InlineData(1UL, 0, 2UL, 0)]      // neighbouring seeds, same tensor
    [InlineData(0UL, 0, 1UL << 32, 0)] // seeds differing only in the high key word
    public void Fill_DifferentStreams_Uncorrelated(ulong seedA, int tensorA, ulong seedB, int tensorB)
    {
        // Arrange
        const int n = 1 << 18;
        var a = new float[n];
        var b = new float[n];

        // Act
        SeedNormal.Fill(seedA, tensorA, 0, a);
        SeedNormal.Fill(seedB, tensorB, 0, b);
        double dot = 0;
        for (int i = 0; i < n; i++) dot += (double)a[i] * b[i];

        // Assert: the sample correlation of independent unit normals has standard error 1/√n ≈ 0.002; allow 5.
        Assert.InRange(dot / n, -0.01, 0.01);
    }

    [Fact]
    public void Transform_Exhaustive23BitInputs_WithinOneMillionthOfExactBoxMuller()
    {
        // Arrange: every radius and angle input (the transform reads the top 24 bits; bit 8 is forced to 1, so 2^23 values).
        double worstRadius = 0, worstSinCos = 0;

        // Act
        for (uint a = 0; a < 1u << 23; a++)
        {
            uint x = a << 9;
            double u = (2.0 * a + 1) / (1 << 24);
            double exactR = Math.Sqrt(-2 * Math.Log(u));
            worstRadius = Math.Max(worstRadius, Math.Abs(SeedNormal.Radius(x) - exactR) / exactR);
            var (c, s) = SeedNormal.SinCos(x);
            worstSinCos = Math.Max(worstSinCos, Math.Max(Math.Abs(c - Math.Cos(2 * Math.PI * u)), Math.Abs(s - Math.Sin(2 * Math.PI * u))));
        }
        output.WriteLine($"max relative error of r: {worstRadius:G4}; max absolute error of cos/sin: {worstSinCos:G4}");

        // Assert: |z − z_exact| ≤ r·(δr + δsincos) ≤ 1e−6·r.
        Assert.True(worstRadius + worstSinCos < 1e-6, $"r {worstRadius:G4} + sincos {worstSinCos:G4}");
    }

    [Fact]
    public void AddScaled_AfterWarmUp_AllocatesNothing()
    {
        // Arrange
        var data = new float[1027];
        SeedNormal.AddScaled(3, 1, 5, data, 1e-3f);

        // Act
        long before = GC.GetAllocatedBytesForCurrentThread();
        SeedNormal.AddScaled(3, 1, 5, data, 1e-3f);
        SeedNormal.Fill(3, 1, 6, data);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Fill_NegativeTensorIndex_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedNormal.Fill(1, -1, 0, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedNormal.Fill(1, 0, -4, new float[4]));
    }
}
