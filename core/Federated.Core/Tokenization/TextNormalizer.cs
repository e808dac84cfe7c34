using System.Text;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenization;

/// <summary>
/// Hugging Face normalizers that byte-level BPE files use: NFC/NFD/NFKC/NFKD, Lowercase, Replace, Prepend, Strip,
/// Sequence. They run on the text between added tokens, before pre-tokenization (offsets are not tracked).
/// </summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    public sealed class Unicode(NormalizationForm form) : TextNormalizer
    {
        public override string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
    }

    public sealed class Lowercase : TextNormalizer
    {
        public override string Normalize(string text) => text.ToLowerInvariant();
    }

    public sealed class Replace(Regex pattern, string content) : TextNormalizer
    {
        public override string Normalize(string text) => pattern.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal));
    }

    public sealed class Prepend(string prefix) : TextNormalizer
    {
        public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
    }

    public sealed class Strip(bool left, bool right) : TextNormalizer
    {
        public override string Normalize(string text) => (left, right) switch
        {
            (true, true) => text.Trim(),
            (true, false) => text.TrimStart(),
            (false, true) => text.TrimEnd(),
            _ => text,
        };
    }

    public sealed class Sequence(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            foreach (var step in steps) text = step.Normalize(text);
            return text;
        }
    }
}
