using Federated.Compression.Ternary;
using FsCheck;
using FsCheck.Xunit;

namespace Federated.Compression.Tests.Ternary;

public class TernaryCodecPropertyTests
{
    /// <summary>Independent reference for the kept set: a full sort by (−|x|, index), zeros excluded.</summary>
    private static int[] ReferencePositions(float[] x, int k) =>
        [.. Enumerable.Range(0, x.Length).Where(i => x[i] != 0).OrderByDescending(i => Math.Abs(x[i])).ThenBy(i => i)
            .Take(k).Order()];

    private static int VarSize(int v) => v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : v < 1 << 28 ? 4 : 5;

    private static void AssertRoundTrip(float[] delta, double density, int[]? lengths)
    {
        // Arrange
        var options = new TernaryOptions { Density = density, ScaleMode = TernaryScaleMode.LeastSquares, TensorLengths = lengths };
        int[] expectedPositions = ReferencePositions(delta, TernaryCodec.KeptCount(delta.Length, density));
        int[] tensorOf = new int[delta.Length];
        int[] lens = lengths ?? [delta.Length];
        for (int t = 0, start = 0; t < lens.Length; start += lens[t], t++)
            for (int i = start; i < start + lens[t]; i++) tensorOf[i] = t;
        var expectedScales = new double[lens.Length];
        var counts = new int[lens.Length];
        foreach (int p in expectedPositions) { expectedScales[tensorOf[p]] += Math.Abs(delta[p]); counts[tensorOf[p]]++; }

        // Act
        byte[] payload = TernaryCodec.Encode(delta, options);
        var header = TernaryCodec.ReadHeader(payload);
        float[] decoded = TernaryCodec.Decode(payload);

        // Assert: positions, signs and scales exactly; the size equals header + streams + CRC.
        int[] actualPositions = [.. Enumerable.Range(0, decoded.Length).Where(i => decoded[i] != 0 || expectedPositions.Contains(i))];
        Assert.Equal(expectedPositions, actualPositions);
        for (int t = 0; t < lens.Length; t++)
            Assert.Equal(counts[t] == 0 ? 0f : (float)(expectedScales[t] / counts[t]), header.Scales[t]);
        foreach (int p in expectedPositions)
            Assert.Equal(MathF.Sign(delta[p]) * header.Scales[tensorOf[p]], decoded[p]);
        int headerBytes = 7 + VarSize(delta.Length) + VarSize(header.KeptCount) + VarSize(lens.Length) + 4 * lens.Length
                          + (lens.Length > 1 ? lens.Sum(VarSize) : 0) + VarSize(header.PositionBytes);
        Assert.Equal(headerBytes + header.PositionBytes + (header.KeptCount + 7) / 8 + 4, payload.Length);
    }

    [Property(MaxTest = 300)]
    public void RoundTrip_IntegerValuedUpdates_PreservesPositionsSignsAndScale(int[] raw, PositiveInt densityPercent)
    {
        // Integer values give many ties and zeros, which exercises the index tie-break.
        raw ??= [];
        float[] delta = [.. raw.Select(v => (float)(v % 50) / 4)];
        double density = Math.Min(100, densityPercent.Get) / 100.0;
        AssertRoundTrip(delta, density, null);
    }

    [Property(MaxTest = 100)]
    public void RoundTrip_GaussianUpdatesPerTensor_PreservesPositionsSignsAndScales(int seed, PositiveInt size, PositiveInt tensors)
    {
        var rng = new Random(seed);
        int n = 1 + size.Get % 3000;
        var delta = new float[n];
        for (int i = 0; i < n; i++) delta[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        int t = 1 + tensors.Get % Math.Min(n, 5);
        int[] lengths = new int[t];
        for (int i = 0; i < t; i++) lengths[i] = n / t + (i < n % t ? 1 : 0);
        double density = new[] { 0.01, 0.05, 0.1, 0.2, 0.5, 0.9 }[Math.Abs(seed % 6)];
        AssertRoundTrip(delta, density, t > 1 ? lengths : null);
    }
}
