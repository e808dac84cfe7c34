using Federated.Data.WordNet;
using Federated.TestKit;

namespace Federated.Data.Tests;

public sealed class WordNetImporterTests
{
    private static readonly string SampleDir = Path.Combine(Fixtures.RepoRoot, "tests", "data", "wordnet-sample");

    private static List<InstructionExample> AllRecords(WordNetDataset dataset) =>
        dataset.Splits.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value).ToList();

    [Fact]
    public void Import_Sample_TwoRecordsPerTaggedEntry()
    {
        // Act
        var dataset = WordNetImporter.Import(SampleDir);

        // Assert: chair, dog, domestic_dog, einstein, run, travel, big, galore, musical, quickly (canine has tagsense_cnt 0)
        Assert.Equal(10, dataset.EntriesUsed);
        var records = AllRecords(dataset);
        Assert.Equal(20, records.Count);
        Assert.Equal(10, records.Count(r => r.Task == "definition"));
        Assert.DoesNotContain(records, r => r.Word == "canine");
    }

    [Fact]
    public void Import_MinTaggedSensesZero_KeepsUntaggedEntries()
    {
        var dataset = WordNetImporter.Import(SampleDir, new WordNetImportOptions { MinTaggedSenses = 0 });
        Assert.Equal(11, dataset.EntriesUsed);
        Assert.Contains(AllRecords(dataset), r => r.Word == "canine" && r.Category == "noun.animal");
    }

    [Fact]
    public void Import_Sample_DefinitionRecordsMatchHandExpectation()
    {
        // Arrange
        var byWord = AllRecords(WordNetImporter.Import(SampleDir)).Where(r => r.Task == "definition").ToDictionary(r => r.Word!);

        // Assert: first sense only, quoted examples and the trailing ';' removed, lex file → category
        Assert.Equal(new InstructionExample("Define: dog (noun)", "", "a member of the genus Canis", "noun.animal", "definition", "dog"), byWord["dog"]);
        Assert.Equal("Define: domestic dog (noun)", byWord["domestic dog"].Instruction);
        Assert.Equal("noun.person", byWord["Einstein"].Category);
        Assert.Equal("physicist born in Germany who formulated the special theory of relativity (1879-1955)", byWord["Einstein"].Response);
        Assert.Equal("a seat for one person, with a support for the back", byWord["chair"].Response);
        Assert.Equal("move fast by using one's feet", byWord["run"].Response);
        Assert.Equal("verb.motion", byWord["run"].Category);
        Assert.Equal("change location; move, travel, or proceed", byWord["travel"].Response);
        Assert.Equal("Define: galore (adjective)", byWord["galore"].Instruction); // "(ip)" marker stripped, satellite → adjective
        Assert.Equal("adj.all", byWord["galore"].Category);
        Assert.Equal("adj.pert", byWord["musical"].Category);
        Assert.Equal("Define: quickly (adverb)", byWord["quickly"].Instruction);
        Assert.Equal("adv.all", byWord["quickly"].Category);
    }

    [Fact]
    public void Import_Sample_CategoryRecordHasWordAndGlossInContext()
    {
        var record = AllRecords(WordNetImporter.Import(SampleDir)).Single(r => r.Task == "category" && r.Word == "dog");
        Assert.Equal(WordNetImporter.CategoryInstruction, record.Instruction);
        Assert.Equal("Word: dog (noun)\nDefinition: a member of the genus Canis", record.Context);
        Assert.Equal("noun.animal", record.Response);
        Assert.Equal("noun.animal", record.Category);
    }

    [Fact]
    public void Import_Sample_SplitsAreDisjointByWordAndFollowTheHash()
    {
        var split = new WordSplit();
        var dataset = WordNetImporter.Import(SampleDir);
        foreach (var (name, records) in dataset.Splits)
            foreach (var r in records)
                Assert.Equal(name, split.Assign(r.Word!));
    }

    [Theory]
    [InlineData("gloss; \"example\"", "gloss")]
    [InlineData("one; two", "one; two")]
    [InlineData("\"only an example\"", "")]
    [InlineData("  spaced ;  ", "spaced")]
    public void Definition_StripsExamples(string gloss, string expected)
    {
        Assert.Equal(expected, WordNetImporter.Definition(gloss));
    }

    [Fact]
    public void Import_MalformedDataLine_ThrowsNamingFileAndLine()
    {
        // Arrange: copy the sample and break line 2 of data.adv
        var dir = Directory.CreateTempSubdirectory("wn-bad-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(SampleDir)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            File.AppendAllText(Path.Combine(dir, "data.adv"), "00000200 02 r zz\n");

            // Act
            var ex = Assert.Throws<InvalidDataException>(() => WordNetImporter.Import(dir));

            // Assert
            Assert.Contains("data.adv:2:", ex.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Import_MissingFolder_ThrowsDirectoryNotFound()
    {
        Assert.Throws<DirectoryNotFoundException>(() => WordNetImporter.Import("/no/such/wordnet"));
    }

    [Fact]
    public void Write_Sample_WritesLoadableSplitsLicenseAndReadme()
    {
        // Arrange
        var dir = Directory.CreateTempSubdirectory("wn-out-").FullName;
        try
        {
            var options = new WordNetImportOptions();
            var dataset = WordNetImporter.Import(SampleDir, options);

            // Act
            var files = WordNetDatasetWriter.Write(dataset, dir, null, options, "federated data build-wordnet --wordnet X --out Y");

            // Assert
            Assert.Equal(6, files.Count);
            foreach (var split in Enum.GetValues<DataSplit>())
                Assert.Equal(dataset.Splits[split], InstructionDataset.Load(Path.Combine(dir, WordSplit.FileStem(split) + ".jsonl.gz")).Records);
            Assert.Contains("Princeton", File.ReadAllText(Path.Combine(dir, "LICENSE-WordNet")));
            Assert.Contains("federated data build-wordnet --wordnet X --out Y", File.ReadAllText(Path.Combine(dir, "README.md")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

public sealed class WordSplitTests
{
    [Fact]
    public void Assign_ManyWords_ApproximatesPercentages()
    {
        // 20,000 synthetic words; each split's share within 1.5 points of 40/40/10/10
        var split = new WordSplit();
        var counts = Enumerable.Range(0, 20000).GroupBy(i => split.Assign("w" + i)).ToDictionary(g => g.Key, g => g.Count() / 200.0);
        Assert.InRange(counts[DataSplit.Pretrain], 38.5, 41.5);
        Assert.InRange(counts[DataSplit.Train], 38.5, 41.5);
        Assert.InRange(counts[DataSplit.Validation], 8.5, 11.5);
        Assert.InRange(counts[DataSplit.Test], 8.5, 11.5);
    }

    [Fact]
    public void Assign_IgnoresCase_AndDependsOnSeed()
    {
        var a = new WordSplit(1);
        Assert.Equal(a.Assign("Einstein"), a.Assign("einstein"));
        var words = Enumerable.Range(0, 200).Select(i => "w" + i).ToArray();
        Assert.NotEqual(words.Select(a.Assign), words.Select(new WordSplit(2).Assign));
    }

    [Fact]
    public void Validate_PercentagesOver100_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WordSplit(1, 60, 40, 10).Validate());
    }
}
