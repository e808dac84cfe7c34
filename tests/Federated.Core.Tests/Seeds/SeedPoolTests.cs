using Federated.Core.Seeds;

namespace Federated.Core.Tests.Seeds;

public class SeedPoolTests
{
    [Fact]
    public void Derive_MasterSeed42_MatchesIndependentImplementation()
    {
        // Arrange: pool_seed(42, i) printed by tools/seed-protocol/golden.py (pure-Python Philox, written from the spec).
        ulong[] expected = [0x68FA076D0B031D92UL, 0x3A40F8F55CB0BA94UL, 0xCAF5D74961C4EEC3UL, 0xF69EE8B181BD3148UL];

        // Act
        var pool = new SeedPool(42, 4);

        // Assert
        Assert.Equal(expected, pool.Seeds.ToArray());
        Assert.Equal(42UL, pool.MasterSeed);
    }

    [Fact]
    public void Derive_FullSizePool_SeedsAreDistinctAndPrefixStable()
    {
        // Act
        var large = new SeedPool(7, SeedPool.MaxCount);
        var small = new SeedPool(7, 4096);

        // Assert
        Assert.Equal(SeedPool.MaxCount, large.Seeds.ToArray().Distinct().Count());
        Assert.True(large.Seeds[..4096].SequenceEqual(small.Seeds));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(SeedPool.MaxCount + 1)]
    public void Constructor_CountOutOfRange_Throws(int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedPool(1, count));
    }

    [Fact]
    public void Indexer_OutOfRange_Throws()
    {
        var pool = new SeedPool(1, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool[8]);
    }
}
