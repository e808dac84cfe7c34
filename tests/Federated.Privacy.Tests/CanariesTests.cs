using Federated.Privacy.Audit;

namespace Federated.Privacy.Tests;

public sealed class CanariesTests
{
    [Fact]
    public void Create_SameSeed_SameDistinctMatchedSets()
    {
        // Act
        var (members, nonMembers) = Canaries.Create(16, 7);
        var (again, _) = Canaries.Create(16, 7);
        var (other, _) = Canaries.Create(16, 8);

        // Assert: 2 × 16 distinct records (distinct nonce words), same format for both sets, deterministic by seed.
        Assert.Equal(16, members.Length);
        Assert.Equal(16, nonMembers.Length);
        Assert.Equal(32, members.Concat(nonMembers).Select(r => r.Word).Distinct().Count());
        Assert.All(members.Concat(nonMembers), r => Assert.Matches("^Define: [a-z]{6,9} \\(noun\\)$", r.Instruction));
        Assert.Equal(members, again);
        Assert.NotEqual(members, other);
    }

    [Theory]
    [InlineData("all", 4)]
    [InlineData("mia, token-set", 2)]
    public void ProbesParse_ValidLists_GiveTheSet(string text, int count) => Assert.Equal(count, AuditProbes.Parse(text).Count);

    [Fact]
    public void ProbesParse_Unknown_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => AuditProbes.Parse("mia,telepathy"));
        Assert.Contains("telepathy", ex.Message);
    }
}
