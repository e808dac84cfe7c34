using Federated.Aggregation.Merging;
using Federated.TestKit;
using FsCheck;
using FsCheck.Xunit;

namespace Federated.Aggregation.Tests.Merging;

// Expected values are worked by hand from the TIES definition (trim → elect sign of the sum → mean over agreeing non-zeros).
public class TiesTests
{
    private static ReadOnlyMemory<float>[] Updates(params float[][] rows) => [.. rows.Select(r => new ReadOnlyMemory<float>(r))];

    [Fact]
    public void Merge_HandWorkedExample_MatchesDefinition()
    {
        // Arrange: sums [2, −4, 0, 4, 0.5] → signs [+, −, 0→majority +, +, +];
        // disjoint means: j0 (1+2)/2, j1 (−2−3)/2, j2 nothing, j3 (3+2)/2, j4 only update 0 (zeros ignored).
        var updates = Updates([1, -2, 0, 3, 0.5f], [2, 1, 0, -1, 0], [-1, -3, 0, 2, 0]);
        var merged = new float[5];

        // Act
        Ties.Merge(updates, TiesOptions.Default, merged);

        // Assert
        Assert.Equal([1.5f, -2.5f, 0f, 2.5f, 0.5f], merged);
    }

    [Fact]
    public void Merge_WeightedTrimmedRandomCase_MatchesIndependentPythonReference()
    {
        // Arrange: values from random.seed(5); expected computed once by a separate pure-Python implementation of the
        // documented rule (trim k = round(0.5·12) = 6 per row by (−|x|, index); weighted sign election with majority
        // fallback; weighted disjoint mean), in double precision.
        var updates = Updates(
            [0.48f, 0.88f, 0.84f, 0.0f, 0.89f, 0.8f, 0.0f, -0.51f, 0.15f, 0.0f, 0.0f, 0.83f],
            [-0.68f, -0.72f, -0.75f, 0.0f, -0.58f, 0.0f, 0.74f, 0.92f, 0.36f, 0.0f, 0.38f, 0.79f],
            [-0.28f, 0.0f, 0.0f, 0.0f, 0.21f, 0.0f, -0.32f, 0.64f, -0.37f, 0.41f, 0.0f, -0.95f]);
        float[] expected = [-0.6f, -0.72f, -0.75f, 0f, 0.89f, 0.8f, 0.74f, 0.864f, -0.37f, 0.41f, 0f, 0.803333333f];
        var merged = new float[12];

        // Act
        Ties.Merge(updates, [1.0, 2.0, 0.5], TiesOptions.Default with { TrimDensity = 0.5 }, merged);

        // Assert
        TensorAssert.Close(expected, merged, 1e-6, 1e-6, "TIES vs Python reference");
    }

    [Fact]
    public void Merge_ZeroSumCoordinate_TakesMajoritySign()
    {
        // Arrange: j0 sums to 0; elected signs elsewhere are + → j0 takes + and averages the positive entry.
        var merged = new float[3];

        // Act
        Ties.Merge(Updates([1, 1, 5], [-1, 1, 5]), TiesOptions.Default, merged);

        // Assert
        Assert.Equal([1f, 1f, 5f], merged);
    }

    [Fact]
    public void Merge_Trim_KeepsTopHalfPerUpdate()
    {
        // Arrange: trim 50 % of [5, −1, 0.5, −4] → [5, 0, 0, −4]; a single update merges to its trimmed self.
        var merged = new float[4];

        // Act
        Ties.Merge(Updates([5, -1, 0.5f, -4]), TiesOptions.Default with { TrimDensity = 0.5 }, merged);

        // Assert
        Assert.Equal([5f, 0f, 0f, -4f], merged);
    }

    [Fact]
    public void Merge_TrimTies_KeepLowerIndex()
    {
        // Arrange: round(0.5·4) = 2 of four equal magnitudes → indices 0 and 1.
        var merged = new float[4];
        Ties.Merge(Updates([1, -1, 1, -1]), TiesOptions.Default with { TrimDensity = 0.5 }, merged);
        Assert.Equal([1f, -1f, 0f, 0f], merged);
    }

    [Fact]
    public void Merge_Weights_DecideElectionAndMean()
    {
        // Arrange: unit weights: 2 − 1 > 0 → +2. Weights [1, 3]: 2 − 3 < 0 → −1.
        var updates = Updates([2], [-1]);
        var unit = new float[1];
        var weighted = new float[1];

        // Act
        Ties.Merge(updates, TiesOptions.Default, unit);
        Ties.Merge(updates, [1.0, 3.0], TiesOptions.Default, weighted);

        // Assert
        Assert.Equal([2f], unit);
        Assert.Equal([-1f], weighted);
    }

    [Fact]
    public void Merge_WeightedAgreeingEntries_WeightedMean()
    {
        // (1·2 + 3·4) / (1 + 3) = 3.5; the disagreeing −10 (weight 1) loses the vote 14 − 10 > 0.
        var merged = new float[1];
        Ties.Merge(Updates([2], [4], [-10]), [1.0, 3.0, 1.0], TiesOptions.Default, merged);
        Assert.Equal([3.5f], merged);
    }

    [Fact]
    public void Merge_TernaryInputs_IsMajorityVoteWithMeanScale()
    {
        // Arrange: ComPEFT-style ternary updates with scales 0.1, 0.3, 0.2. j0: +0.1 +0.3 −0.2 → + → (0.1+0.3)/2.
        var merged = new float[2];

        // Act
        Ties.Merge(Updates([0.1f, 0], [0.3f, -0.3f], [-0.2f, 0]), TiesOptions.Default, merged);

        // Assert
        TensorAssert.Close([0.2f, -0.3f], merged, 1e-7, 0, "ternary TIES");
    }

    [Fact]
    public void Merge_Lambda_ScalesResult()
    {
        var merged = new float[2];
        Ties.Merge(Updates([2, -4]), TiesOptions.Default with { Lambda = 0.5 }, merged);
        Assert.Equal([1f, -2f], merged);
    }

    [Property(MaxTest = 100)]
    public void Merge_IdenticalUpdates_ReturnsThatUpdate(int seed, PositiveInt copies)
    {
        // Arrange: integer-valued entries (with zeros) so that the mean of copies is exact.
        var rng = new Random(seed);
        var update = new float[1 + Math.Abs(seed % 300)];
        for (int i = 0; i < update.Length; i++) update[i] = rng.Next(-3, 4);
        int c = 1 + copies.Get % 6;
        var merged = new float[update.Length];

        // Act
        Ties.Merge([.. Enumerable.Repeat(new ReadOnlyMemory<float>(update), c)], TiesOptions.Default, merged);

        // Assert
        Assert.Equal(update, merged);
    }

    [Property(MaxTest = 100)]
    public void Merge_RandomUpdates_ResultWithinAgreeingInputRange(int seed)
    {
        // Arrange: every merged value is 0 or lies between the smallest and largest input of its own sign.
        var rng = new Random(seed);
        int n = 50, c = 1 + Math.Abs(seed % 5);
        var rows = new float[c][];
        for (int i = 0; i < c; i++)
        {
            rows[i] = new float[n];
            for (int j = 0; j < n; j++) rows[i][j] = rng.NextDouble() < 0.4 ? 0 : (float)(rng.NextDouble() * 2 - 1);
        }
        var merged = new float[n];

        // Act
        Ties.Merge(Updates(rows), TiesOptions.Default, merged);

        // Assert
        for (int j = 0; j < n; j++)
        {
            if (merged[j] == 0) continue;
            var same = rows.Select(r => r[j]).Where(x => x != 0 && Math.Sign(x) == Math.Sign(merged[j])).ToArray();
            Assert.NotEmpty(same);
            Assert.InRange(merged[j], same.Min() - 1e-6f, same.Max() + 1e-6f);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void Validate_InvalidTrimDensity_Throws(double density)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TiesOptions { TrimDensity = density }.Validate());
        Assert.Equal("TrimDensity", ex.ParamName);
    }

    [Fact]
    public void Merge_LengthMismatch_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Ties.Merge(Updates([1, 2], [1]), TiesOptions.Default, new float[2]));
    }
}
