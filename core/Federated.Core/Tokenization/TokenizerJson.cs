using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenization;

/// <summary>The parts of a Hugging Face <c>tokenizer.json</c> that a byte-level BPE needs.</summary>
internal sealed class TokenizerDefinition
{
    public required Dictionary<string, int> Vocab { get; init; }
    /// <summary>Merges in rank order as "left right".</summary>
    public required List<string> Merges { get; init; }
    public required bool IgnoreMerges { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required TextNormalizer? Normalizer { get; init; }
    public required List<PreTokenizerStep> PreTokenizer { get; init; }
    /// <summary>Ids the post-processor puts before / after the sequence when add_special_tokens is true.</summary>
    public required int[] PrefixIds { get; init; }
    public required int[] SuffixIds { get; init; }
}

/// <summary>
/// Reads tokenizer.json (format of the Rust <c>tokenizers</c> library, version 1.0). Anything outside byte-level BPE
/// (WordPiece, Unigram, byte_fallback, dropout, Metaspace, …) is rejected with an <see cref="InvalidDataException"/>
/// naming the file, never silently approximated.
/// </summary>
internal static class TokenizerJson
{
    public static TokenizerDefinition Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file {path} does not exist.", path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            try
            {
                return Parse(doc.RootElement, path);
            }
            catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException or RegexParseException)
            {
                throw new InvalidDataException($"{path} is not a valid tokenizer.json: {ex.Message}", ex);
            }
        }
    }

    private static TokenizerDefinition Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail(path, "the top level is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Fail(path, "it has no \"model\" object");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "BPE";
        if (type != "BPE") throw Fail(path, $"model type \"{type}\" is not supported (only byte-level BPE)");
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
            throw Fail(path, "byte_fallback BPE (SentencePiece style) is not supported");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw Fail(path, "BPE dropout is not supported");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(affix, out var a) && a.ValueKind == JsonValueKind.String && a.GetString()!.Length > 0)
                throw Fail(path, $"{affix} is not supported");

        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            throw Fail(path, "model.vocab is missing or not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw Fail(path, $"model.vocab entry \"{entry.Name}\" has no non-negative integer id");
            vocab[entry.Name] = id;
        }

        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var mergesElement))
        {
            if (mergesElement.ValueKind != JsonValueKind.Array) throw Fail(path, "model.merges is not an array");
            int rank = 0;
            foreach (var m in mergesElement.EnumerateArray())
            {
                string? left, right;
                if (m.ValueKind == JsonValueKind.String)
                {
                    var s = m.GetString()!;
                    int space = s.IndexOf(' ', 1);
                    if (space < 0 || space == s.Length - 1) throw Fail(path, $"merge {rank} \"{s}\" is not \"left right\"");
                    (left, right) = (s[..space], s[(space + 1)..]);
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                    (left, right) = (m[0].GetString(), m[1].GetString());
                else throw Fail(path, $"merge {rank} is neither \"left right\" nor [left, right]");
                if (string.IsNullOrEmpty(left) || string.IsNullOrEmpty(right) || left.Contains(' ') || right.Contains(' '))
                    throw Fail(path, $"merge {rank} has an empty part or a space inside a part");
                if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right) || !vocab.ContainsKey(left + right))
                    throw Fail(path, $"merge {rank} \"{left} {right}\" uses or makes a token missing from model.vocab");
                merges.Add(left + " " + right);
                rank++;
            }
        }
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
            foreach (var a in addedElement.EnumerateArray())
            {
                bool special = Bool(a, "special", false);
                added.Add(new AddedToken(
                    a.GetProperty("id").GetInt32(), a.GetProperty("content").GetString() ?? throw Fail(path, "an added token has no content"),
                    special, Bool(a, "lstrip", false), Bool(a, "rstrip", false), Bool(a, "single_word", false), Bool(a, "normalized", !special)));
            }

        var normalizer = root.TryGetProperty("normalizer", out var n) ? ParseNormalizer(n, path) : null;
        var steps = new List<PreTokenizerStep>();
        bool byteLevel = false;
        if (root.TryGetProperty("pre_tokenizer", out var pre)) AddPreTokenizer(pre, steps, ref byteLevel, path);
        if (!byteLevel) throw Fail(path, "its pre_tokenizer has no ByteLevel step (only byte-level BPE is supported)");
        if (steps[^1] is not ByteLevelStep) throw Fail(path, "ByteLevel must be the last pre-tokenizer");

        if (root.TryGetProperty("decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            string dtype = decoder.GetProperty("type").GetString() ?? "";
            if (dtype != "ByteLevel") throw Fail(path, $"decoder \"{dtype}\" is not supported (only ByteLevel)");
        }

        var prefix = new List<int>();
        var suffix = new List<int>();
        if (root.TryGetProperty("post_processor", out var post)) ParsePostProcessor(post, prefix, suffix, vocab, added, path);

        return new TokenizerDefinition
        {
            Vocab = vocab, Merges = merges, IgnoreMerges = ignoreMerges, AddedTokens = added, Normalizer = normalizer,
            PreTokenizer = steps, PrefixIds = [.. prefix], SuffixIds = [.. suffix],
        };
    }

    private static bool Bool(JsonElement e, string name, bool fallback) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.True || (v.ValueKind != JsonValueKind.False && fallback) : fallback;

    private static InvalidDataException Fail(string path, string message) => new($"{path} is not a supported tokenizer.json: {message}.");

    private static TextNormalizer? ParseNormalizer(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = e.GetProperty("type").GetString() ?? "";
        return type switch
        {
            "NFC" => new TextNormalizer.Unicode(NormalizationForm.FormC),
            "NFD" => new TextNormalizer.Unicode(NormalizationForm.FormD),
            "NFKC" => new TextNormalizer.Unicode(NormalizationForm.FormKC),
            "NFKD" => new TextNormalizer.Unicode(NormalizationForm.FormKD),
            "Lowercase" => new TextNormalizer.Lowercase(),
            "Prepend" => new TextNormalizer.Prepend(e.GetProperty("prepend").GetString() ?? ""),
            "Strip" => new TextNormalizer.Strip(Bool(e, "strip_left", true), Bool(e, "strip_right", true)),
            "Replace" => new TextNormalizer.Replace(Pattern(e.GetProperty("pattern"), path), e.GetProperty("content").GetString() ?? ""),
            "Sequence" => new TextNormalizer.Sequence(
                [.. e.GetProperty("normalizers").EnumerateArray().Select(x => ParseNormalizer(x, path)).OfType<TextNormalizer>()]),
            _ => throw Fail(path, $"normalizer \"{type}\" is not supported"),
        };
    }

    private static Regex Pattern(JsonElement pattern, string path)
    {
        if (pattern.TryGetProperty("String", out var s)) return new Regex(Regex.Escape(s.GetString() ?? ""), RegexOptions.CultureInvariant);
        if (pattern.TryGetProperty("Regex", out var r)) return new Regex(r.GetString() ?? "", RegexOptions.CultureInvariant);
        throw Fail(path, "a pattern is neither {\"String\": …} nor {\"Regex\": …}");
    }

    private static void AddPreTokenizer(JsonElement e, List<PreTokenizerStep> steps, ref bool byteLevel, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return;
        string type = e.GetProperty("type").GetString() ?? "";
        switch (type)
        {
            case "Sequence":
                foreach (var inner in e.GetProperty("pretokenizers").EnumerateArray()) AddPreTokenizer(inner, steps, ref byteLevel, path);
                break;
            case "ByteLevel":
                steps.Add(new ByteLevelStep(Bool(e, "add_prefix_space", true), Bool(e, "use_regex", true)));
                byteLevel = true;
                break;
            case "Split":
                var p = e.GetProperty("pattern");
                SplitPattern pattern = p.TryGetProperty("Regex", out var r) ? SplitPattern.FromRegex(r.GetString() ?? "")
                    : p.TryGetProperty("String", out var s) ? SplitPattern.FromLiteral(s.GetString() ?? "")
                    : throw Fail(path, "a Split pattern is neither {\"String\": …} nor {\"Regex\": …}");
                string behavior = e.TryGetProperty("behavior", out var b) ? b.GetString() ?? "" : "Isolated";
                if (!Enum.TryParse<SplitBehavior>(behavior, out var kind)) throw Fail(path, $"Split behavior \"{behavior}\" is unknown");
                steps.Add(new SplitStep(pattern, kind, Bool(e, "invert", false)));
                break;
            default:
                throw Fail(path, $"pre_tokenizer \"{type}\" is not supported (Split, ByteLevel and Sequence are)");
        }
    }

    private static void ParsePostProcessor(JsonElement e, List<int> prefix, List<int> suffix,
        Dictionary<string, int> vocab, List<AddedToken> added, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return;
        string type = e.GetProperty("type").GetString() ?? "";
        int IdOf(string token) =>
            added.FirstOrDefault(a => a.Content == token)?.Id ?? (vocab.TryGetValue(token, out int id) ? id : throw Fail(path, $"post_processor token \"{token}\" is not in the vocabulary"));
        switch (type)
        {
            case "ByteLevel":
                return; // offsets only
            case "Sequence":
                foreach (var inner in e.GetProperty("processors").EnumerateArray()) ParsePostProcessor(inner, prefix, suffix, vocab, added, path);
                return;
            case "TemplateProcessing":
                // "single": [{"SpecialToken": {"id": "<|begin_of_text|>"}}, {"Sequence": {"id": "A"}}, …];
                // "special_tokens": {"<|begin_of_text|>": {"ids": [128000], …}}.
                var specials = e.GetProperty("special_tokens");
                bool seenSequence = false;
                foreach (var piece in e.GetProperty("single").EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
                    string name = piece.GetProperty("SpecialToken").GetProperty("id").GetString() ?? "";
                    var ids = specials.TryGetProperty(name, out var st)
                        ? st.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32())
                        : [IdOf(name)];
                    (seenSequence ? suffix : prefix).AddRange(ids);
                }
                return;
            case "BertProcessing" or "RobertaProcessing":
                prefix.Add(e.GetProperty("cls")[1].GetInt32());
                suffix.Add(e.GetProperty("sep")[1].GetInt32());
                return;
            default:
                throw Fail(path, $"post_processor \"{type}\" is not supported");
        }
    }
}
