using Federated.Server.Strategies;

namespace Federated.Server.Tests;

public sealed class SeedScalarAggregationTests
{
    [Fact]
    public void RoundDelta_HandWorkedCase_WeightsBySampleCount()
    {
        // Arrange: ΔH[s] = Σ_c n_c/N Σ_{t: s_t = s} g; A (n=2): [0→1, 1→−2]; B (n=6): [0→3]; N = 8.
        // ΔH[0] = 2/8·1 + 6/8·3 = 2.5; ΔH[1] = 2/8·(−2) = −0.5.
        var updates = new List<(uint[], float[], ulong)> { ([0, 1], [1f, -2f], 2), ([0], [3f], 6) };

        // Act
        var delta = SeedScalarAggregation.RoundDelta(updates);

        // Assert
        Assert.Equal(new Dictionary<uint, double> { [0] = 2.5, [1] = -0.5 }, delta);
    }

    [Fact]
    public void RoundDelta_IdenticalUpdates_EqualsOneUpdate()
    {
        // Arrange
        var updates = new List<(uint[], float[], ulong)> { ([7, 3], [0.25f, 4f], 5), ([7, 3], [0.25f, 4f], 5) };

        // Act
        var delta = SeedScalarAggregation.RoundDelta(updates);

        // Assert
        Assert.Equal(new Dictionary<uint, double> { [3] = 4, [7] = 0.25 }, delta);
    }

    [Fact]
    public void EncodeDelta_RoundTrip_SameEntriesAndExactSize()
    {
        // Arrange
        var delta = new SortedDictionary<uint, double> { [1] = 0.1, [1023] = -3e-9 };

        // Act
        var bytes = SeedScalarAggregation.EncodeDelta(delta);
        var back = SeedScalarAggregation.DecodeDelta(bytes);

        // Assert
        Assert.Equal(4 + 2 * 12, bytes.Length);
        Assert.Equal(delta, back);
    }

    [Fact]
    public void DecodeDelta_Truncated_InvalidData()
    {
        // Arrange
        var bytes = SeedScalarAggregation.EncodeDelta(new SortedDictionary<uint, double> { [1] = 1 });

        // Act
        var ex = Record.Exception(() => SeedScalarAggregation.DecodeDelta(bytes.AsSpan(0, bytes.Length - 1)));

        // Assert
        Assert.IsType<InvalidDataException>(ex);
    }
}
