using Federated.Data.Partitioning;

namespace Federated.Data.Tests;

public sealed class PartitionerTests
{
    /// <summary>categoryCount categories with perCategory records each, interleaved (record i has category i mod C).</summary>
    private static string[] Balanced(int categoryCount, int perCategory) =>
        Enumerable.Range(0, categoryCount * perCategory).Select(i => $"c{i % categoryCount:D2}").ToArray();

    /// <summary>Unequal category sizes: category k has 20·(k+1) records.</summary>
    private static string[] Skewed(int categoryCount) =>
        Enumerable.Range(0, categoryCount).SelectMany(k => Enumerable.Repeat($"c{k:D2}", 20 * (k + 1))).ToArray();

    public static TheoryData<string> AllSchemes => ["iid", "dirichlet:0.5", "dirichlet:0.1,min=3", "categories:2", "categories:3", "quantity:1.0", "quantity:0"];

    private static void AssertAtMostOnce(PartitionResult result, int recordCount)
    {
        var seen = new bool[recordCount];
        foreach (var index in result.Clients.SelectMany(c => c).Concat(result.HeldOut).Concat(result.Unassigned))
        {
            Assert.InRange(index, 0, recordCount - 1);
            Assert.False(seen[index], $"record {index} appears twice");
            seen[index] = true;
        }
        Assert.All(seen, Assert.True); // clients ∪ held out ∪ unassigned = all records
    }

    [Theory]
    [MemberData(nameof(AllSchemes))]
    public void Apply_AnyScheme_EveryRecordAtMostOnceAndSizesSum(string scheme)
    {
        // Arrange
        var categories = Skewed(6); // 420 records

        // Act
        var result = PartitionScheme.Parse(scheme).Apply(categories, 7, seed: 3);

        // Assert
        Assert.Equal(7, result.Clients.Count);
        AssertAtMostOnce(result, categories.Length);
        Assert.Empty(result.HeldOut);
        Assert.Equal(categories.Length, result.Clients.Sum(c => c.Length) + result.Unassigned.Length);
        Assert.All(result.Clients, c => Assert.NotEmpty(c));
    }

    [Theory]
    [MemberData(nameof(AllSchemes))]
    public void Apply_SameSeed_SameResult_OtherSeed_Differs(string scheme)
    {
        var categories = Skewed(6);
        var parsed = PartitionScheme.Parse(scheme);
        var a = parsed.Apply(categories, 7, seed: 11);
        var b = parsed.Apply(categories, 7, seed: 11);
        var c = parsed.Apply(categories, 7, seed: 12);
        Assert.Equal(a.Clients, b.Clients);
        Assert.NotEqual(a.Clients, c.Clients);
    }

    [Fact]
    public void Iid_SizesDifferByAtMostOne()
    {
        var result = PartitionScheme.Parse("iid").Apply(Balanced(3, 34), 4, seed: 1); // 102 records
        Assert.Equal([26, 26, 25, 25], result.Clients.Select(c => c.Length));
    }

    /// <summary>Share of client c's records in each category, minus the global share; largest absolute gap.</summary>
    private static double MaxShareGap(string[] categories, PartitionResult result)
    {
        var names = categories.Distinct().ToArray();
        double gap = 0;
        foreach (var client in result.Clients)
            foreach (var name in names)
            {
                double local = client.Count(i => categories[i] == name) / (double)client.Length;
                double global = categories.Count(c => c == name) / (double)categories.Length;
                gap = Math.Max(gap, Math.Abs(local - global));
            }
        return gap;
    }

    [Fact]
    public void Dirichlet_LargeAlpha_ApproachesGlobalMix()
    {
        // 4 categories × 1000 records, 5 clients, α = 1000: p per category ≈ 1/5 ± 0.006 (sd of Dir(1000·1_5) component),
        // so every client's category shares stay within 0.05 of the global 0.25.
        var categories = Balanced(4, 1000);
        var result = PartitionScheme.Parse("dirichlet:1000").Apply(categories, 5, seed: 7);
        Assert.True(MaxShareGap(categories, result) < 0.05, $"gap {MaxShareGap(categories, result)}");
    }

    [Fact]
    public void Dirichlet_SmallAlpha_ConcentratesCategories()
    {
        // 20 categories × 100 records, 5 clients, α = 0.05: each category lands almost entirely on one client,
        // so a client's top category share is far above the 5% of an IID split, and few categories carry 90% of its data.
        var categories = Balanced(20, 100);
        var result = PartitionScheme.Parse("dirichlet:0.05").Apply(categories, 5, seed: 7);
        foreach (var client in result.Clients)
        {
            var shares = client.GroupBy(i => categories[i]).Select(g => g.Count() / (double)client.Length).OrderDescending().ToArray();
            int needed = 0;
            for (double sum = 0; sum < 0.9; sum += shares[needed++]) { }
            Assert.True(needed <= 8, $"{needed} categories needed for 90% of a client's data (IID would need 18)");
        }
        Assert.True(MaxShareGap(categories, result) > 0.15);
    }

    [Fact]
    public void Dirichlet_MinSize_IsHonoured()
    {
        var result = PartitionScheme.Parse("dirichlet:0.1,min=30").Apply(Balanced(10, 60), 10, seed: 5);
        Assert.All(result.Clients, c => Assert.True(c.Length >= 30));
    }

    [Fact]
    public void Dirichlet_ImpossibleMinSize_ThrowsClearly()
    {
        var ex = Assert.Throws<ArgumentException>(() => PartitionScheme.Parse("dirichlet:0.5,min=50").Apply(Balanced(2, 100), 5, seed: 1));
        Assert.Contains("exceeds", ex.Message);
    }

    [Fact]
    public void Categories_EachClientHasAtMostK_AndAllCoveredWhenNkAtLeastC()
    {
        // 6 categories, 4 clients × 2 = 8 ≥ 6 slots → every record assigned, every client ≤ 2 categories
        var categories = Skewed(6);
        var result = PartitionScheme.Parse("categories:2").Apply(categories, 4, seed: 2);
        Assert.All(result.Clients, c => Assert.True(c.Select(i => categories[i]).Distinct().Count() <= 2));
        Assert.Empty(result.Unassigned);
    }

    [Fact]
    public void Categories_FewSlots_LeavesUncoveredCategoriesUnassigned()
    {
        // 6 categories, 2 clients × 2 = 4 slots → exactly 2 categories nobody holds
        var categories = Balanced(6, 10);
        var result = PartitionScheme.Parse("categories:2").Apply(categories, 2, seed: 2);
        Assert.Equal(20, result.Unassigned.Length);
        Assert.Equal(2, result.Unassigned.Select(i => categories[i]).Distinct().Count());
    }

    [Fact]
    public void Quantity_SigmaZero_EqualSizes_LargeSigma_Skewed()
    {
        var categories = Balanced(2, 500);
        var equal = PartitionScheme.Parse("quantity:0").Apply(categories, 10, seed: 1);
        Assert.All(equal.Clients, c => Assert.Equal(100, c.Length));
        var skewed = PartitionScheme.Parse("quantity:1.5").Apply(categories, 10, seed: 1);
        Assert.Equal(1000, skewed.Clients.Sum(c => c.Length));
        Assert.True(skewed.Clients.Max(c => c.Length) > 3 * skewed.Clients.Min(c => c.Length));
    }

    [Fact]
    public void Holdout_ExcludesCategoriesFromEveryClient()
    {
        // Arrange
        var categories = Skewed(5);
        var scheme = PartitionScheme.Parse("dirichlet:0.5+holdout:c01,c03");

        // Act
        var result = scheme.Apply(categories, 4, seed: 9);

        // Assert
        Assert.DoesNotContain(result.Clients.SelectMany(c => c), i => categories[i] is "c01" or "c03");
        Assert.Equal(categories.Count(c => c is "c01" or "c03"), result.HeldOut.Length);
        Assert.All(result.HeldOut, i => Assert.Contains(categories[i], new[] { "c01", "c03" }));
        AssertAtMostOnce(result, categories.Length);
    }

    [Fact]
    public void ClientRecords_MapsIndicesToRecords()
    {
        var categories = new[] { "a", "b", "a", "b" };
        var result = PartitionScheme.Parse("categories:1+holdout:b").Apply(categories, 1, seed: 1);
        Assert.Equal(["a", "a"], result.ClientRecords(categories, 0));
        Assert.Equal(["b", "b"], result.HeldOutRecords(categories));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.ClientRecords(categories, 1));
    }

    [Fact]
    public void Holdout_UnknownCategory_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => PartitionScheme.Parse("holdout:nope").Apply(Balanced(2, 10), 2, seed: 1));
        Assert.Contains("'nope'", ex.Message);
    }

    [Fact]
    public void Apply_MoreClientsThanRecords_Throws()
    {
        Assert.Throws<ArgumentException>(() => PartitionScheme.Parse("iid").Apply(Balanced(1, 3), 4, seed: 1));
    }
}

public sealed class PartitionSchemeParseTests
{
    [Theory]
    [InlineData("iid", "iid")]
    [InlineData(" IID ", "iid")]
    [InlineData("dirichlet:0.5", "dirichlet:0.5")]
    [InlineData("Dirichlet:1e-1, min=4", "dirichlet:0.1,min=4")]
    [InlineData("categories:2", "categories:2")]
    [InlineData("quantity:1.0", "quantity:1")]
    [InlineData("holdout:noun.animal", "iid+holdout:noun.animal")]
    [InlineData("holdout:noun.Tops, verb.motion+dirichlet:0.5", "dirichlet:0.5+holdout:noun.Tops,verb.motion")]
    [InlineData("categories:3+holdout:a", "categories:3+holdout:a")]
    public void Parse_Valid_GivesCanonicalString(string text, string canonical)
    {
        var scheme = PartitionScheme.Parse(text);
        Assert.Equal(canonical, scheme.ToString());
        Assert.Equal(canonical, PartitionScheme.Parse(canonical).ToString());
    }

    [Fact]
    public void Parse_Dirichlet_ExposesParameters()
    {
        var scheme = PartitionScheme.Parse("dirichlet:0.25,min=0+holdout:x");
        var dirichlet = Assert.IsType<DirichletPartitioner>(scheme.Base);
        Assert.Equal(0.25, dirichlet.Alpha);
        Assert.Equal(0, dirichlet.MinSize);
        Assert.Equal(["x"], scheme.HoldoutCategories);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("random", "unknown part 'random'")]
    [InlineData("dirichlet", "dirichlet needs a non-negative number")]
    [InlineData("dirichlet:abc", "dirichlet needs a non-negative number")]
    [InlineData("dirichlet:0", "must be a positive number")]
    [InlineData("dirichlet:-1", "non-negative")]
    [InlineData("dirichlet:0.5,max=3", "only option is min=N")]
    [InlineData("categories:0", "whole number")]
    [InlineData("categories:1.5", "whole number")]
    [InlineData("quantity:", "non-negative number")]
    [InlineData("quantity:NaN", "non-negative number")]
    [InlineData("iid:3", "iid takes no argument")]
    [InlineData("iid+dirichlet:0.5", "second base scheme")]
    [InlineData("holdout:a+holdout:b", "holdout appears twice")]
    [InlineData("holdout:", "at least one category")]
    [InlineData("iid++holdout:a", "empty part")]
    public void Parse_Invalid_ThrowsNamingTheProblem(string text, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => PartitionScheme.Parse(text));
        Assert.Contains(reason, ex.Message);
    }
}
