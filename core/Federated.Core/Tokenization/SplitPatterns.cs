using System.Text;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenization;

/// <summary>
/// A pre-tokenizer regex: finds non-overlapping matches left to right, as Hugging Face's <c>Split</c> /
/// <c>ByteLevel(use_regex)</c> do with Oniguruma. Offsets are UTF-16 indices into the searched text.
/// </summary>
internal abstract class SplitPattern
{
    /// <summary>GPT-2's pattern (ByteLevel use_regex=true).</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Llama-3's Split pattern (tiktoken cl100k style, numbers in runs of at most 3).</summary>
    public const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2/Qwen3's Split pattern: Llama-3's with single digits.</summary>
    public const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public abstract void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches);

    /// <summary>
    /// The known patterns get hand-written scanners that walk code points (Runes), so \p{L}, \p{N} and \s apply to
    /// astral characters as in Oniguruma/Rust; .NET's Regex classifies the two UTF-16 halves of an astral letter as
    /// surrogates (neither L nor N), which changes the splits (see docs/tokenizer.md). Other patterns fall back to
    /// .NET Regex, exact for BMP text.
    /// </summary>
    public static SplitPattern FromRegex(string pattern) => pattern switch
    {
        Gpt2 => new Gpt2Scanner(),
        Llama3 => new Llama3Scanner(3),
        Qwen2 => new Llama3Scanner(1),
        _ => new RegexSplitPattern(new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant)),
    };

    public static SplitPattern FromLiteral(string literal) =>
        new RegexSplitPattern(new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant));

    // ---- Unicode classes over code points ----

    protected static Rune RuneAt(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (!char.IsSurrogate(c)) { length = 1; return new Rune(c); }
        Rune.DecodeFromUtf16(s[i..], out var rune, out length);
        return rune;
    }

    protected static bool IsLetter(Rune r) =>
        r.Value < 128 ? (uint)((r.Value | 0x20) - 'a') <= 'z' - 'a' : Rune.GetUnicodeCategory(r) <= System.Globalization.UnicodeCategory.OtherLetter;

    protected static bool IsNumber(Rune r)
    {
        if (r.Value < 128) return (uint)(r.Value - '0') <= 9;
        var cat = Rune.GetUnicodeCategory(r);
        return cat is System.Globalization.UnicodeCategory.DecimalDigitNumber
            or System.Globalization.UnicodeCategory.LetterNumber or System.Globalization.UnicodeCategory.OtherNumber;
    }

    /// <summary>Unicode White_Space (equal to .NET's IsWhiteSpace; all of them are BMP chars).</summary>
    protected static bool IsSpace(Rune r) => Rune.IsWhiteSpace(r);

    /// <summary>[^\s\p{L}\p{N}]</summary>
    protected static bool IsOther(Rune r) => !IsSpace(r) && !IsLetter(r) && !IsNumber(r);

    protected static int RunWhile(ReadOnlySpan<char> s, int i, Func<Rune, bool> predicate)
    {
        while (i < s.Length)
        {
            var r = RuneAt(s, i, out int n);
            if (!predicate(r)) break;
            i += n;
        }
        return i;
    }

    /// <summary>End of `\s+(?!\S)|\s+` starting at whitespace position i (Oniguruma backtracking).</summary>
    protected static int WhitespaceEnd(ReadOnlySpan<char> s, int i)
    {
        int e = i;
        while (e < s.Length && char.IsWhiteSpace(s[e])) e++;
        if (e == s.Length) return e;     // \s+(?!\S) at the end of text
        if (e - 1 > i) return e - 1;      // backtrack one so that the next char is whitespace
        return e;                         // \s+
    }

    /// <summary>Length of a contraction after an apostrophe at i-1: s t re ve m ll d.</summary>
    protected static int Contraction(ReadOnlySpan<char> s, int i, bool ignoreCase)
    {
        if (i >= s.Length) return 0;
        char a = Fold(s[i], ignoreCase);
        if (a is 's' or 't' or 'm' or 'd') return 1;
        if (i + 1 >= s.Length) return 0;
        char b = Fold(s[i + 1], ignoreCase);
        return (a, b) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 2 : 0;
    }

    // Simple case folding restricted to the contraction letters: ASCII upper case, and U+017F (long s) folds to 's'.
    private static char Fold(char c, bool ignoreCase) =>
        !ignoreCase ? c : c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c == '\u017F' ? 's' : c;

    public void FindAll(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        for (int i = 0; i < text.Length;)
        {
            int end = MatchAt(text, i);
            matches.Add((i, end));
            i = end;
        }
    }

    /// <summary>End of the match at i (these patterns match at every position).</summary>
    protected virtual int MatchAt(ReadOnlySpan<char> s, int i) => throw new NotSupportedException();

    private sealed class Gpt2Scanner : SplitPattern
    {
        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches) => FindAll(text, matches);

        // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
        protected override int MatchAt(ReadOnlySpan<char> s, int i)
        {
            if (s[i] == '\'')
            {
                int n = Contraction(s, i + 1, ignoreCase: false);
                if (n > 0) return i + 1 + n;
            }
            int p = s[i] == ' ' ? i + 1 : i;
            if (p < s.Length)
            {
                var r = RuneAt(s, p, out _);
                if (IsLetter(r)) return RunWhile(s, p, IsLetter);
                if (IsNumber(r)) return RunWhile(s, p, IsNumber);
                if (!IsSpace(r)) return RunWhile(s, p, IsOther);
            }
            return WhitespaceEnd(s, i);
        }
    }

    private sealed class Llama3Scanner(int maxDigits) : SplitPattern
    {
        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches) => FindAll(text, matches);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        protected override int MatchAt(ReadOnlySpan<char> s, int i)
        {
            var c = RuneAt(s, i, out int n);
            if (c.Value == '\'')
            {
                int k = Contraction(s, i + 1, ignoreCase: true);
                if (k > 0) return i + 1 + k;
            }
            if (IsLetter(c)) return RunWhile(s, i, IsLetter);
            bool isNumber = IsNumber(c);
            if (c.Value is not '\r' and not '\n' && !isNumber && i + n < s.Length && IsLetter(RuneAt(s, i + n, out _)))
                return RunWhile(s, i + n, IsLetter);
            if (isNumber)
            {
                int j = i, count = 0;
                while (j < s.Length && count < maxDigits)
                {
                    var r = RuneAt(s, j, out int m);
                    if (!IsNumber(r)) break;
                    j += m;
                    count++;
                }
                return j;
            }
            int p = c.Value == ' ' ? i + 1 : i;
            if (p < s.Length && IsOther(RuneAt(s, p, out _)))
            {
                int j = RunWhile(s, p, IsOther);
                while (j < s.Length && s[j] is '\r' or '\n') j++;
                return j;
            }
            // c is whitespace: \s*[\r\n]+ ends after the last newline of the whitespace run.
            int e = i, lastNewline = -1;
            while (e < s.Length && char.IsWhiteSpace(s[e]))
            {
                if (s[e] is '\r' or '\n') lastNewline = e;
                e++;
            }
            if (lastNewline >= 0) return lastNewline + 1;
            return WhitespaceEnd(s, i);
        }
    }

    private sealed class RegexSplitPattern(Regex regex) : SplitPattern
    {
        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
        {
            foreach (var m in regex.EnumerateMatches(text))
                if (m.Length > 0) matches.Add((m.Index, m.Index + m.Length));
        }
    }
}
