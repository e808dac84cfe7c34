using Federated.Core.IO;

namespace Federated.Core.Tests.IO;

public sealed class Utf8LinesTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"utf8-lines-{Guid.NewGuid():N}.txt");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Read_BomCrLfAndNoFinalNewline_GivesNumberedLines()
    {
        // Arrange
        File.WriteAllBytes(_path, [0xEF, 0xBB, 0xBF, .. "a\r\n\r\nné"u8.ToArray(), (byte)'\n', .. "last"u8.ToArray()]);

        // Act
        var lines = Utf8Lines.Read(_path).ToList();

        // Assert
        Assert.Equal([(1, "a"), (2, ""), (3, "né"), (4, "last")], lines);
    }

    [Fact]
    public void Read_InvalidByteOnLineThree_ThrowsNamingFileAndLine()
    {
        // Arrange: a Latin-1 'é' (0xE9 followed by ASCII) is not UTF-8.
        File.WriteAllBytes(_path, [.. "{\"text\":\"ok\"}\n{\"text\":\"ok\"}\n{\"text\":\"caf"u8.ToArray(), 0xE9, .. "\"}\n"u8.ToArray()]);

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => Utf8Lines.Read(_path).ToList());

        // Assert
        Assert.StartsWith($"{_path}:3: not valid UTF-8", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0xE9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingFile_FileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => Utf8Lines.Read(_path));
    }
}
