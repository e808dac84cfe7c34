using System.Text;
using System.Text.RegularExpressions;
using Federated.Core.Tokenization;
using FsCheck.Xunit;

namespace Federated.Core.Tests.Tokenization;

/// <summary>
/// The hand-written scanners for the GPT-2, Llama-3 and Qwen2 patterns against .NET's backtracking Regex, an
/// independent implementation that is exact on BMP text (no surrogate pairs), over random text from a pool of the
/// characters these patterns distinguish (letters, digits, apostrophes, spaces of all kinds, newlines, punctuation).
/// Astral characters, where .NET's Regex is not exact, are covered by HfTokenizerBehaviorTests against Python's regex.
/// </summary>
public sealed class SplitPatternTests
{
    private static readonly char[] Pool =
        "aZsStTrReEvVmMlLdD'’ \t\n\r\u000B\u000C\u0085\u00A0\u2009\u3000\u2028 0123456789²٣.,;!?-_\"(){}#$€中文é\u0301\u0915\u094DЖ\u00AD\u200D\u0000\u001B".ToCharArray();

    [Property(MaxTest = 500)]
    public bool Gpt2Scanner_RandomBmpText_MatchesDotNetRegex(int[] picks) => SameSplits(SplitPattern.Gpt2, picks);

    [Property(MaxTest = 500)]
    public bool Llama3Scanner_RandomBmpText_MatchesDotNetRegex(int[] picks) => SameSplits(SplitPattern.Llama3, picks);

    [Property(MaxTest = 500)]
    public bool Qwen2Scanner_RandomBmpText_MatchesDotNetRegex(int[] picks) => SameSplits(SplitPattern.Qwen2, picks);

    [Theory]
    [InlineData("a  b\t\n\n  c  ", new[] { "a", " ", " b", "\t\n\n", " ", " c", "  " })] // Python regex.findall, Llama-3
    [InlineData("IT'S we'RE they'Ll", new[] { "IT", "'S", " we", "'RE", " they", "'Ll" })]
    [InlineData("1 12345 x", new[] { "1", " ", "123", "45", " x" })]
    public void Llama3Scanner_KnownText_SplitsAsPythonRegex(string text, string[] expected)
    {
        // Act
        var pieces = Split(SplitPattern.Llama3, text);

        // Assert
        Assert.Equal(expected, pieces);
    }

    private static bool SameSplits(string pattern, int[] picks)
    {
        // Arrange
        var sb = new StringBuilder();
        foreach (int p in picks ?? []) sb.Append(Pool[(int)((uint)p % Pool.Length)]);
        var text = sb.ToString();
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);

        // Act
        var ours = Split(pattern, text);
        var reference = regex.Matches(text).Select(m => m.Value).ToArray();

        // Assert
        return ours.SequenceEqual(reference);
    }

    private static string[] Split(string pattern, string text)
    {
        var matches = new List<(int Start, int End)>();
        SplitPattern.FromRegex(pattern).FindMatches(text, matches);
        return [.. matches.Select(m => text[m.Start..m.End])];
    }
}
