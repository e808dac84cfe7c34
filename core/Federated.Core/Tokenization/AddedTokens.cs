namespace Federated.Core.Tokenization;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip, bool RStrip, bool SingleWord, bool Normalized);

/// <summary>
/// Finds added tokens in text before pre-tokenization, as tokenizers' <c>AddedVocabulary::find_matches</c> does
/// (split_special_tokens=false): leftmost-longest matching (its Aho-Corasick is built with LeftmostLongest), then
/// per token single_word (discard a match touching a word char, i.e. alphanumeric or '_'), lstrip (swallow
/// whitespace to the left, not past the previous match) and rstrip (swallow whitespace to the right).
/// Cost: O(text length) dictionary probes, plus a prefix compare per candidate starting with the same char.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Content, AddedToken Token)[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<(string Content, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into (start, end, token) pieces; token is null for plain text.</summary>
    public void Split(string text, List<(int Start, int End, AddedToken? Token)> pieces)
    {
        pieces.Clear();
        int startOffset = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates)) { i++; continue; }
            AddedToken? found = null;
            int length = 0;
            foreach (var (content, token) in candidates)
                if (text.AsSpan(i).StartsWith(content, StringComparison.Ordinal))
                {
                    found = token;
                    length = content.Length;
                    break;
                }
            if (found is null) { i++; continue; }

            int start = i, stop = i + length;
            i = stop; // non-overlapping: scanning resumes after this match whether it is kept or not
            if (found.SingleWord)
            {
                bool spaceBefore = start == 0 || !IsWordChar(text, start, before: true);
                bool spaceAfter = stop == text.Length || !IsWordChar(text, stop, before: false);
                if (!spaceBefore || !spaceAfter) continue;
            }
            if (found.LStrip)
            {
                int s = start;
                while (s > 0 && char.IsWhiteSpace(text[s - 1])) s--;
                start = Math.Max(s, startOffset);
            }
            if (found.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
                i = stop;
            }
            if (startOffset < start) pieces.Add((startOffset, start, null));
            pieces.Add((start, stop, found));
            startOffset = stop;
        }
        if (startOffset < text.Length) pieces.Add((startOffset, text.Length, null));
    }

    // Rust's char::is_alphanumeric (Alphabetic or Numeric) or '_', on the code point before/after an index.
    private static bool IsWordChar(string text, int index, bool before)
    {
        System.Text.Rune r;
        if (before) System.Text.Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out r, out _);
        else System.Text.Rune.DecodeFromUtf16(text.AsSpan(index), out r, out _);
        return r.Value == '_' || System.Text.Rune.IsLetterOrDigit(r) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(r.Value)
            is System.Globalization.UnicodeCategory.LetterNumber or System.Globalization.UnicodeCategory.OtherNumber;
    }
}
