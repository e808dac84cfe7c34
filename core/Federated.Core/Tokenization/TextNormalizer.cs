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

    /// <summary>
    /// NFC and NFD come from our own tables (<see cref="UnicodeNormalization"/>), identical with or without ICU.
    /// NFKC/NFKD use string.Normalize (ICU). Under InvariantGlobalization (this repository's default) .NET's Normalize
    /// silently returns its input, so there NFKC/NFKD pass ASCII text (which they never change) and refuse other text
    /// with a <see cref="NotSupportedException"/> rather than give ids that differ from Hugging Face.
    /// </summary>
    public sealed class Unicode(NormalizationForm form) : TextNormalizer
    {
        public static readonly bool RuntimeCanNormalize = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00e9";

        public override string Normalize(string text)
        {
            if (form is NormalizationForm.FormC or NormalizationForm.FormD)
                return UnicodeNormalization.Normalize(text, compose: form == NormalizationForm.FormC);
            if (RuntimeCanNormalize) return text.IsNormalized(form) ? text : text.Normalize(form);
            if (Ascii.IsValid(text)) return text;
            throw new NotSupportedException(
                $"The tokenizer's {form} normalizer needs ICU, which this process runs without (InvariantGlobalization); " +
                "run with InvariantGlobalization=false (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=0) to encode this text.");
        }
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
