using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Federated.Data;

/// <summary>Writes records as JSON Lines in the Dolly-15K schema (gzip when the path ends in ".gz").</summary>
public static class InstructionDatasetWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// One object per line, fields in the order instruction, context, response, category, then task and word when set
    /// (a prompt record writes prompt, response, category). Output is byte-for-byte deterministic (gzip without a time stamp).
    /// </summary>
    public static void Write(string path, IEnumerable<InstructionExample> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var file = File.Create(path);
        using Stream output = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.SmallestSize)
            : file;
        Write(output, records);
    }

    /// <summary>Writes the lines to a stream (left open).</summary>
    public static void Write(Stream output, IEnumerable<InstructionExample> records)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        foreach (var r in records)
        {
            writer.Reset(output);
            writer.WriteStartObject();
            if (r.RawPrompt is not null)
            {
                writer.WriteString("prompt", r.RawPrompt);
                writer.WriteString("response", r.Response);
                writer.WriteString("category", r.Category);
            }
            else
            {
                writer.WriteString("instruction", r.Instruction);
                writer.WriteString("context", r.Context);
                writer.WriteString("response", r.Response);
                writer.WriteString("category", r.Category);
                if (r.Task is not null) writer.WriteString("task", r.Task);
                if (r.Word is not null) writer.WriteString("word", r.Word);
            }
            writer.WriteEndObject();
            writer.Flush();
            output.WriteByte((byte)'\n');
        }
    }
}
