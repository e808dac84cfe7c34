namespace Federated.Core.Tokenization;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c> table, used by every byte-level BPE (GPT-2, Llama-3, Qwen):
/// the 188 printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves, the other 68 bytes map to
/// U+0100 + n in byte order (space → 'Ġ' U+0120, '\n' → 'Ċ' U+010A). All 256 images are single BMP chars.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>byte → char.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>char → byte, or -1 for chars outside the alphabet (indexed by char, 0..0x143).</summary>
    public static readonly short[] CharToByte = BuildInverse();

    /// <summary>The 256 alphabet chars in GPT-2's order: printable bytes first, then the remapped ones.
    /// This is the order in which Hugging Face's ByteLevel trainer lists its initial alphabet.</summary>
    public static IEnumerable<char> InGpt2Order()
    {
        for (int b = 0; b < 256; b++) if (IsPrintable(b)) yield return (char)b;
        for (int b = 0; b < 256; b++) if (!IsPrintable(b)) yield return ByteToChar[b];
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] Build()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = IsPrintable(b) ? (char)b : (char)(256 + n++);
        return map;
    }

    private static short[] BuildInverse()
    {
        var inverse = new short[0x144];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[ByteToChar[b]] = (short)b;
        return inverse;
    }

    /// <summary>Maps UTF-8 bytes of <paramref name="text"/> into alphabet chars (one char per byte).</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        int byteCount = System.Text.Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        Span<char> chars = byteCount <= 512 ? stackalloc char[byteCount] : new char[byteCount];
        for (int i = 0; i < byteCount; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>
    /// Hugging Face's ByteLevel decoder for one token: every char mapped back to its byte, or, when any char lies
    /// outside the alphabet, the token's own UTF-8 bytes (tokenizers' <c>decoders/byte_level.rs</c>).
    /// </summary>
    public static byte[] DecodeToken(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            int b = c < CharToByte.Length ? CharToByte[c] : -1;
            if (b < 0) return System.Text.Encoding.UTF8.GetBytes(token);
            bytes[i] = (byte)b;
        }
        return bytes;
    }
}
