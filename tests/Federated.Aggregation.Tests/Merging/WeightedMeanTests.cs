using Federated.Aggregation.Merging;
using Federated.TestKit;
using FsCheck;
using FsCheck.Xunit;

namespace Federated.Aggregation.Tests.Merging;

public class WeightedMeanTests
{
    private static ReadOnlyMemory<float>[] Updates(params float[][] rows) => [.. rows.Select(r => new ReadOnlyMemory<float>(r))];

    [Fact]
    public void Merge_HandWorkedWeights_WeightsRespected()
    {
        // Arrange: (1·[1, 2] + 3·[3, 4]) / 4 = [2.5, 3.5].
        var merged = new float[2];

        // Act
        WeightedMean.Merge(Updates([1, 2], [3, 4]), [1.0, 3.0], merged);

        // Assert
        Assert.Equal([2.5f, 3.5f], merged);
    }

    [Fact]
    public void Merge_NoWeights_IsPlainMean()
    {
        var merged = new float[3];
        WeightedMean.Merge(Updates([1, 0, -2], [3, 0, 0]), merged);
        Assert.Equal([2f, 0f, -1f], merged);
    }

    [Fact]
    public void Merge_ZeroWeight_IgnoresThatUpdate()
    {
        var merged = new float[2];
        WeightedMean.Merge(Updates([1, 2], [100, 100]), [5.0, 0.0], merged);
        Assert.Equal([1f, 2f], merged);
    }

    [Property(MaxTest = 100)]
    public void Merge_IdenticalUpdates_ReturnsThatUpdate(int seed, PositiveInt copies)
    {
        // Arrange
        var rng = new Random(seed);
        var update = new float[1 + Math.Abs(seed % 200)];
        for (int i = 0; i < update.Length; i++) update[i] = (float)(rng.NextDouble() * 2 - 1);
        int c = 1 + copies.Get % 8;
        double[] weights = [.. Enumerable.Range(0, c).Select(_ => 1 + rng.Next(1000) * 1.0)];
        var merged = new float[update.Length];

        // Act
        WeightedMean.Merge([.. Enumerable.Repeat(new ReadOnlyMemory<float>(update), c)], weights, merged);

        // Assert
        TensorAssert.Close(update, merged, 1e-6, 1e-5, "mean of copies");
    }

    [Fact]
    public void Merge_LengthMismatch_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => WeightedMean.Merge(Updates([1, 2], [1]), new float[2]));
        Assert.Contains("Update 1", ex.Message);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Merge_InvalidWeight_ThrowsArgumentException(double bad)
    {
        Assert.Throws<ArgumentException>(() => WeightedMean.Merge(Updates([1], [2]), [1.0, bad], new float[1]));
    }

    [Fact]
    public void Merge_AllZeroWeights_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => WeightedMean.Merge(Updates([1], [2]), [0.0, 0.0], new float[1]));
    }

    [Fact]
    public void Merge_NoUpdates_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => WeightedMean.Merge([], new float[1]));
    }
}
