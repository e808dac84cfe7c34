using System.IO.Compression;
using System.Text;

namespace Federated.Data.Tests;

public sealed class InstructionDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fed-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text, bool gzip = false)
    {
        var path = Path.Combine(_dir, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var gz = new GZipStream(file, CompressionMode.Compress);
            gz.Write(Encoding.UTF8.GetBytes(text));
        }
        else File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Load_DollyLines_ReadsAllFields()
    {
        // Arrange
        var path = WriteFile("dolly.jsonl",
            """
            {"instruction": "Who wrote Hamlet?", "context": "", "response": "Shakespeare.", "category": "open_qa"}
            {"instruction": "Summarize", "context": "Long text", "response": "Short", "category": "summarization", "extra": 5}

            {"instruction": "Define: dog (noun)", "response": "a canine", "task": "definition", "word": "dog"}
            """);

        // Act
        var result = InstructionDataset.Load(path);

        // Assert
        Assert.Equal(3, result.Records.Count);
        Assert.Equal(0, result.SkippedLines);
        Assert.Equal(new InstructionExample("Who wrote Hamlet?", "", "Shakespeare.", "open_qa"), result.Records[0]);
        Assert.Equal("Long text", result.Records[1].Context);
        Assert.Equal(new InstructionExample("Define: dog (noun)", "", "a canine", InstructionExample.DefaultCategory, "definition", "dog"), result.Records[2]);
        Assert.Equal(["open_qa", "summarization", InstructionExample.DefaultCategory], result.Categories());
    }

    [Fact]
    public void Load_GzipPromptResponse_DetectsCompressionByContent()
    {
        // Arrange: a gzip file without a .gz name, in the plain prompt/response schema
        var path = WriteFile("plain.data", "{\"prompt\": \"Q: 1+1=\", \"response\": \"2\"}\n{\"prompt\": \"Hi\", \"response\": \"Hello\", \"category\": \"chat\"}\n", gzip: true);

        // Act
        var result = InstructionDataset.Load(path);

        // Assert
        Assert.Equal(2, result.Records.Count);
        Assert.Equal("Q: 1+1=", result.Records[0].RawPrompt);
        Assert.Equal("2", result.Records[0].Response);
        Assert.Equal("chat", result.Records[1].Category);
    }

    [Theory]
    [InlineData("{\"instruction\": \"x\", \"response\": ", "invalid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"instruction\": \"x\"}", "missing required field \"response\"")]
    [InlineData("{\"instruction\": 3, \"response\": \"y\"}", "field \"instruction\" must be a string")]
    [InlineData("{\"question\": \"x\", \"response\": \"y\"}", "expected an object with \"instruction\"")]
    [InlineData("{\"prompt\": \"x\", \"response\": \"y\", \"category\": 7}", "field \"category\" must be a string")]
    public void Load_MalformedLine_ThrowsNamingFileAndLine(string badLine, string reason)
    {
        // Arrange: the bad line is line 3 (line 2 is blank)
        var path = WriteFile("bad.jsonl", "{\"prompt\": \"a\", \"response\": \"b\"}\n\n" + badLine + "\n");

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => InstructionDataset.Load(path));

        // Assert
        Assert.StartsWith(path + ":3: ", ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void Load_SkipBadLines_SkipsAndCounts()
    {
        // Arrange: lines 2 and 4 are malformed
        var path = WriteFile("mixed.jsonl",
            "{\"prompt\": \"a\", \"response\": \"b\"}\nnot json\n{\"instruction\": \"i\", \"response\": \"r\"}\n{\"response\": \"r\"}\n");

        // Act
        var result = InstructionDataset.Load(path, new DataLoadOptions { SkipBadLines = true });

        // Assert
        Assert.Equal(2, result.Records.Count);
        Assert.Equal(2, result.SkippedLines);
    }

    [Fact]
    public void Load_InvalidUtf8_ThrowsNamingLine()
    {
        var path = Path.Combine(_dir, "latin1.jsonl");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{\"prompt\": \"caf"), 0xE9, .. Encoding.UTF8.GetBytes("\", \"response\": \"x\"}\n")]);
        var ex = Assert.Throws<InvalidDataException>(() => InstructionDataset.Load(path));
        Assert.Contains(path + ":1:", ex.Message);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => InstructionDataset.Load(Path.Combine(_dir, "nope.jsonl")));
        Assert.Contains("nope.jsonl", ex.Message);
    }

    [Fact]
    public void Write_ThenLoad_RoundTripsBothSchemas()
    {
        // Arrange
        InstructionExample[] records =
        [
            new("Define: naïve (adjective)", "", "marked by \"innocence\"", "adj.all", "definition", "naïve"),
            new("Classify", "Word: dog (noun)\nDefinition: x", "noun.animal", "noun.animal", "category", "dog"),
            InstructionExample.FromPrompt("P", "R", "c"),
        ];
        var path = Path.Combine(_dir, "out.jsonl.gz");

        // Act
        InstructionDatasetWriter.Write(path, records);
        var loaded = InstructionDataset.Load(path);

        // Assert
        Assert.Equal(records, loaded.Records);
    }
}
