using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Federated.Data;

/// <summary>Options for <see cref="InstructionDataset.Load(string, DataLoadOptions?)"/>.</summary>
public sealed record DataLoadOptions
{
    /// <summary>Skip malformed lines and count them in <see cref="DataLoadResult.SkippedLines"/> instead of throwing.</summary>
    public bool SkipBadLines { get; init; }

    /// <summary>Default: throw on the first malformed line.</summary>
    public static DataLoadOptions Default { get; } = new();
}

/// <summary>The records of one file, and how many malformed lines were skipped (always 0 unless SkipBadLines).</summary>
public sealed record DataLoadResult(IReadOnlyList<InstructionExample> Records, int SkippedLines)
{
    /// <summary>Category of every record, in record order (the input of the partitioners).</summary>
    public string[] Categories() => Records.Select(r => r.Category).ToArray();
}

/// <summary>
/// Reads JSON Lines instruction data, gzip-compressed or plain (detected from the 1f 8b magic bytes, not the name).
/// Each non-blank line is one JSON object of either schema:
/// <list type="bullet">
/// <item>Dolly-15K: <c>instruction</c> and <c>response</c> (strings, required), <c>context</c> and <c>category</c>
/// (strings, optional, default "" and <see cref="InstructionExample.DefaultCategory"/>), <c>task</c> and <c>word</c> (optional).</item>
/// <item>Plain: <c>prompt</c> and <c>response</c> (strings, required), <c>category</c> (optional). The prompt is used verbatim.</item>
/// </list>
/// Other fields are ignored. A malformed line throws <see cref="InvalidDataException"/> naming the file and line number
/// (1-based), unless <see cref="DataLoadOptions.SkipBadLines"/> is set.
/// </summary>
public static class InstructionDataset
{
    /// <summary>Loads a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed (and SkipBadLines is off).</exception>
    public static DataLoadResult Load(string path, DataLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path, options);
    }

    /// <summary>Loads from a stream; <paramref name="sourceName"/> names it in error messages.</summary>
    public static DataLoadResult Load(Stream stream, string sourceName, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= DataLoadOptions.Default;
        using var reader = new StreamReader(OpenMaybeGzip(stream), new UTF8Encoding(false, throwOnInvalidBytes: true));
        var records = new List<InstructionExample>();
        int skipped = 0, lineNumber = 0;
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (Exception ex) when (ex is DecoderFallbackException or InvalidDataException)
            {
                throw new InvalidDataException($"{sourceName}:{lineNumber + 1}: cannot be decoded ({ex.Message}).", ex);
            }
            if (line is null) break;
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (TryParse(line, out var record, out var error)) records.Add(record!);
            else if (options.SkipBadLines) skipped++;
            else throw new InvalidDataException($"{sourceName}:{lineNumber}: {error}");
        }
        return new DataLoadResult(records, skipped);
    }

    /// <summary>Parses one JSON line; on failure <paramref name="error"/> is one sentence.</summary>
    internal static bool TryParse(string line, out InstructionExample? record, out string? error)
    {
        record = null;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException ex)
        {
            error = $"invalid JSON ({ex.Message.Split('.')[0]}).";
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { error = $"expected a JSON object, found {root.ValueKind}."; return false; }
            if (!TryString(root, "response", required: true, out var response, out error)) return false;
            if (!TryString(root, "category", required: false, out var category, out error)) return false;
            if (string.IsNullOrEmpty(category)) category = InstructionExample.DefaultCategory;
            if (root.TryGetProperty("instruction", out _))
            {
                if (!TryString(root, "instruction", required: true, out var instruction, out error)) return false;
                if (!TryString(root, "context", required: false, out var context, out error)) return false;
                if (!TryString(root, "task", required: false, out var task, out error)) return false;
                if (!TryString(root, "word", required: false, out var word, out error)) return false;
                record = new InstructionExample(instruction!, context ?? "", response!, category!,
                    string.IsNullOrEmpty(task) ? null : task, string.IsNullOrEmpty(word) ? null : word);
                return true;
            }
            if (root.TryGetProperty("prompt", out _))
            {
                if (!TryString(root, "prompt", required: true, out var prompt, out error)) return false;
                record = InstructionExample.FromPrompt(prompt!, response!, category);
                return true;
            }
            error = "expected an object with \"instruction\" and \"response\" (Dolly) or \"prompt\" and \"response\".";
            return false;
        }
    }

    private static bool TryString(JsonElement root, string name, bool required, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required) error = $"missing required field \"{name}\".";
            return !required;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"field \"{name}\" must be a string, found {element.ValueKind}.";
            return false;
        }
        value = element.GetString();
        return true;
    }

    /// <summary>Wraps the stream in a GZipStream when it starts with the gzip magic bytes 1f 8b.</summary>
    internal static Stream OpenMaybeGzip(Stream stream)
    {
        var buffered = stream;
        if (!buffered.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            buffered = copy;
        }
        long start = buffered.Position;
        int b0 = buffered.ReadByte(), b1 = buffered.ReadByte();
        buffered.Position = start;
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(buffered, CompressionMode.Decompress) : buffered;
    }
}
