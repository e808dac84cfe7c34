using System.Buffers;
using System.Text;

namespace Federated.Core.IO;

/// <summary>
/// Reads a text file line by line as strict UTF-8: a byte sequence that is not UTF-8 is an error naming the file, the
/// line and the byte, never a silent U+FFFD. Lines end at '\n' (a '\r' before it is dropped); a UTF-8 byte-order mark at
/// the start is skipped. Each line is decoded on its own, so the line number in an error is exact.
/// </summary>
public static class Utf8Lines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines of <paramref name="path"/> with their 1-based numbers.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is not valid UTF-8 ("path:line: …").</exception>
    public static IEnumerable<(int LineNumber, string Text)> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        return ReadIterator(path);
    }

    private static IEnumerable<(int, string)> ReadIterator(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new ArrayBufferWriter<byte>(256);
        var buffer = new byte[1 << 16];
        int lineNumber = 0, read;
        bool first = true;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            while (start < read)
            {
                int newline = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                int end = newline < 0 ? read : newline;
                line.Write(buffer.AsSpan(start, end - start));
                start = end + 1;
                if (newline < 0) break;
                yield return (++lineNumber, Decode(line.WrittenSpan, path, lineNumber, ref first));
                line.ResetWrittenCount();
            }
        }
        if (line.WrittenCount > 0) yield return (++lineNumber, Decode(line.WrittenSpan, path, lineNumber, ref first));
    }

    private static string Decode(ReadOnlySpan<byte> bytes, string path, int lineNumber, ref bool first)
    {
        if (first && bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        first = false;
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            string what = ex.BytesUnknown is { Length: > 0 } unknown ? "byte 0x" + Convert.ToHexString(unknown, 0, 1) : "a byte";
            throw new InvalidDataException($"{path}:{lineNumber}: not valid UTF-8 ({what} at byte {ex.Index + 1} of the line).", ex);
        }
    }
}
