using Federated.Data.Partitioning;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.Random;

namespace Federated.Data.Tests;

/// <summary>The partitioners' allocation-free draws against the MathNet calls they stand in for (same seed, same values).</summary>
public sealed class PartitionerRandomTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(1000)]
    [InlineData(1024)]
    [InlineData(19_021)]
    [InlineData(1 << 24)]
    public void NextBelow_SameSeed_EqualsMathNetNext(int maxExclusive)
    {
        // Arrange: two generators in the same state; MathNet's own Next(int) is the reference.
        var reference = new MersenneTwister(11, threadSafe: false);
        var ours = new MersenneTwister(11, threadSafe: false);
        var scratch = new byte[4];

        // Act / Assert: 2,000 draws each, interleaved with a different bound so rejection paths stay in step.
        for (int i = 0; i < 2_000; i++)
        {
            Assert.Equal(reference.Next(maxExclusive), Partitioner.NextBelow(ours, maxExclusive, scratch));
            Assert.Equal(reference.Next(3 + i), Partitioner.NextBelow(ours, 3 + i, scratch));
        }
    }

    [Fact]
    public void DirichletDraw_SameSeed_EqualsMathNetDirichletSample()
    {
        // Arrange
        var alpha = Enumerable.Repeat(0.5, 1000).ToArray();
        var reference = new MersenneTwister(5, threadSafe: false);
        var ours = new MersenneTwister(5, threadSafe: false);
        var drawn = new double[alpha.Length];

        for (int draw = 0; draw < 20; draw++)
        {
            // Act
            var expected = Dirichlet.Sample(reference, alpha);
            DirichletPartitioner.Draw(alpha, ours, drawn);

            // Assert: bit-identical proportions
            Assert.Equal(expected, drawn);
        }
    }
}
