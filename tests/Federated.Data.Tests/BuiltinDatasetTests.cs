using Federated.Data.WordNet;

namespace Federated.Data.Tests;

public sealed class BuiltinDatasetTests
{
    private static readonly Lazy<Dictionary<DataSplit, DataLoadResult>> Splits =
        new(() => Enum.GetValues<DataSplit>().ToDictionary(s => s, BuiltinDataset.Load));

    [Fact]
    public void Load_EverySplit_IsEmbeddedAndNonEmpty()
    {
        foreach (var (split, result) in Splits.Value)
        {
            Assert.True(result.Records.Count > 1000, $"{split}: {result.Records.Count} records");
            Assert.Equal(0, result.SkippedLines);
        }
        Assert.InRange(Splits.Value.Values.Sum(r => r.Records.Count), 20_000, 60_000);
    }

    [Fact]
    public void Load_Splits_HaveDisjointWords()
    {
        var words = Splits.Value.ToDictionary(kv => kv.Key, kv => kv.Value.Records.Select(r => r.Word!.ToLowerInvariant()).ToHashSet());
        var splits = words.Keys.ToArray();
        for (int a = 0; a < splits.Length; a++)
            for (int b = a + 1; b < splits.Length; b++)
                Assert.Empty(words[splits[a]].Intersect(words[splits[b]]));
    }

    [Fact]
    public void Load_AllSplits_Cover45LexicographerFiles()
    {
        var categories = Splits.Value.Values.SelectMany(r => r.Records).Select(r => r.Category).ToHashSet();
        Assert.Equal(LexicographerFiles.Names.ToHashSet(), categories);
    }

    [Fact]
    public void Load_CategoryRecords_AnswerWithTheirCategory()
    {
        var records = Splits.Value[DataSplit.Validation].Records;
        Assert.All(records.Where(r => r.Task == "category"), r => Assert.Equal(r.Category, r.Response));
        Assert.All(records.Where(r => r.Task == "definition"), r => Assert.StartsWith("Define: ", r.Instruction));
        Assert.Equal(records.Count / 2, records.Count(r => r.Task == "definition"));
    }

    [Theory]
    [InlineData("builtin", DataSplit.Train)]
    [InlineData("builtin:test", DataSplit.Test)]
    [InlineData("BUILTIN:Validation", DataSplit.Validation)]
    public void LoadByName_Builtin_PicksSplit(string name, DataSplit expected)
    {
        Assert.Equal(Splits.Value[expected].Records, BuiltinDataset.LoadByName(name).Records);
    }

    [Theory]
    [InlineData("builtin:dev")]
    [InlineData("builtin:1")]
    public void LoadByName_UnknownSplit_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => BuiltinDataset.LoadByName(name));
    }
}
