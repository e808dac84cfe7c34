using Federated.Compression.Ternary;
using Xunit.Abstractions;

namespace Federated.Compression.Tests.Ternary;

/// <summary>
/// Measured payload bytes, headers and CRC included, against the entropy bound n·(h₂(d) + d)/8 bytes of a ternary vector
/// with density d (positions + one sign bit per non-zero). The codec must stay within 3 %.
/// </summary>
public class EntropyBoundTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, double> Cases()
    {
        var data = new TheoryData<string, int, double>();
        foreach (string dist in new[] { "gaussian", "student-t3" })
            foreach (int n in new[] { 100_000, 1_000_000 })
                foreach (double d in new[] { 0.01, 0.05, 0.10, 0.20 })
                    data.Add(dist, n, d);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_RealisticUpdate_WithinThreePercentOfEntropyBound(string distribution, int n, double density)
    {
        // Arrange
        float[] delta = Sample(distribution, n, seed: 11);

        // Act
        byte[] payload = TernaryCodec.Encode(delta, new TernaryOptions { Density = density });

        // Assert
        var header = TernaryCodec.ReadHeader(payload);
        double d = (double)header.KeptCount / n;
        double h2 = -d * Math.Log2(d) - (1 - d) * Math.Log2(1 - d);
        double boundBytes = n * (h2 + d) / 8;
        double ratio = payload.Length / boundBytes;
        output.WriteLine($"{distribution} d={density:P0} n={n} k={header.KeptCount} bytes={payload.Length} bound={boundBytes:F0} " +
                         $"ratio={ratio:F4} coding={header.Coding} b={header.RiceParameter} vs-fp32={4.0 * n / payload.Length:F1}x");
        Assert.InRange(ratio, 0.99, 1.03);
        Assert.Equal(TernaryPositionCoding.Rice, header.Coding);
        Assert.Equal(RiceCoding.FormulaParameter(d), header.RiceParameter); // exhaustive search agrees with b*(d)
    }

    private static float[] Sample(string distribution, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double z = Normal(rng);
            if (distribution == "student-t3")
            {
                // t with 3 degrees of freedom: z / sqrt(χ²₃ / 3), heavy tails.
                double chi = 0;
                for (int j = 0; j < 3; j++) { double g = Normal(rng); chi += g * g; }
                z /= Math.Sqrt(chi / 3);
            }
            x[i] = (float)(z * 1e-3);
        }
        return x;
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
