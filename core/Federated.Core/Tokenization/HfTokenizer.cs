using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Federated.Core.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (GPT-2, Llama-3, Qwen families) loaded from <c>tokenizer.json</c>, with
/// bos/eos/pad and <c>clean_up_tokenization_spaces</c> from the folder's tokenizer_config.json / generation_config.json.
/// <para>
/// Encode: added tokens are matched in the raw text (split_special_tokens=false) → normalizer → added tokens with
/// normalized=true → pre-tokenizer chain (Split / ByteLevel) → per pre-token BPE → post-processor template.
/// The BPE of one pre-token is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (ByteLevel = true), which
/// matches Hugging Face id for id; added-token splitting, the Split scanners (code-point exact), ignore_merges and
/// decoding are ours because the library cannot reproduce Hugging Face there (docs/tokenizer.md has the evidence).
/// Time goes into the BPE of unseen pre-tokens; results are cached per pre-token, so encoding a corpus costs one
/// scan plus a dictionary probe per pre-token. Thread-safe.
/// </para>
/// </summary>
public sealed class HfTokenizer
{
    private const int MaxCacheEntries = 1 << 20;

    private readonly TokenizerDefinition _definition;
    private readonly BpeTokenizer _bpe;
    private readonly AddedTokenMatcher _rawAdded;        // normalized=false tokens, matched on the raw text
    private readonly AddedTokenMatcher _normalizedAdded; // normalized=true tokens, matched after the normalizer
    private readonly string?[] _idToToken;
    private readonly byte[]?[] _idToBytes;
    private readonly bool[] _isSpecial;
    private readonly bool[] _isAdded;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private int _cacheCount;
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;

    private HfTokenizer(TokenizerDefinition definition, string? bos, string? eos, string? pad,
        int? bosId, int[] eosIds, int? padId, bool cleanUpSpaces)
    {
        _definition = definition;
        _bpe = BpeTokenizer.Create(new BpeOptions(definition.Vocab) { Merges = definition.Merges, ByteLevel = true });
        definition.Merges.Clear(); // the BPE holds its own copy (Llama-3: 280k strings)
        definition.Merges.TrimExcess();

        _tokenToId = new Dictionary<string, int>(definition.Vocab, StringComparer.Ordinal);
        foreach (var a in definition.AddedTokens) _tokenToId[a.Content] = a.Id;
        VocabSize = _tokenToId.Count == 0 ? 0 : _tokenToId.Values.Max() + 1;
        _idToToken = new string?[VocabSize];
        foreach (var (token, id) in definition.Vocab) _idToToken[id] = token;
        foreach (var a in definition.AddedTokens) _idToToken[a.Id] = a.Content;
        _idToBytes = [.. _idToToken.Select(t => t is null ? null : ByteLevelAlphabet.DecodeToken(t))];
        _isSpecial = new bool[VocabSize];
        _isAdded = new bool[VocabSize];
        foreach (var a in definition.AddedTokens) (_isSpecial[a.Id], _isAdded[a.Id]) = (a.Special, true);

        _rawAdded = new AddedTokenMatcher(definition.AddedTokens.Where(a => !a.Normalized).Select(a => (a.Content, a)));
        _normalizedAdded = new AddedTokenMatcher(definition.AddedTokens.Where(a => a.Normalized)
            .Select(a => (definition.Normalizer?.Normalize(a.Content) ?? a.Content, a)));
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        BosId = bosId ?? (bos is not null ? TokenToId(bos) : null);
        EosId = eos is not null ? TokenToId(eos) : eosIds.Length > 0 ? eosIds[0] : null;
        EosIds = EosId is int e ? [e, .. eosIds.Where(x => x != e)] : eosIds;
        PadId = padId ?? (pad is not null ? TokenToId(pad) : null);
        CleanUpTokenizationSpaces = cleanUpSpaces;
    }

    /// <summary>Number of ids: highest id of the vocabulary or of the added tokens, plus one.</summary>
    public int VocabSize { get; }

    public int? BosId { get; }
    public int? EosId { get; }
    /// <summary>Every end-of-sequence id: <see cref="EosId"/> first, then generation_config.json's others.</summary>
    public IReadOnlyList<int> EosIds { get; }
    public int? PadId { get; }

    /// <summary>tokenizer_config.json's clean_up_tokenization_spaces (false when absent); default of <see cref="Decode"/>.</summary>
    public bool CleanUpTokenizationSpaces { get; }

    public IReadOnlyList<AddedToken> AddedTokens => _definition.AddedTokens;

    /// <summary>
    /// Loads a model directory (tokenizer.json, optional tokenizer_config.json and generation_config.json) or a
    /// tokenizer.json file (its sibling config files are read when present).
    /// </summary>
    public static HfTokenizer Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file))
            throw new FileNotFoundException(Directory.Exists(path) ? $"Model directory {path} has no tokenizer.json." : $"Tokenizer file {path} does not exist.", file);
        var definition = TokenizerJson.Read(file);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;

        string? bos = null, eos = null, pad = null;
        bool cleanUp = false;
        string configPath = Path.Combine(dir, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var config = ParseJson(configPath);
            var root = config.RootElement;
            bos = TokenString(root, "bos_token");
            eos = TokenString(root, "eos_token");
            pad = TokenString(root, "pad_token");
            cleanUp = root.TryGetProperty("clean_up_tokenization_spaces", out var c) && c.ValueKind == JsonValueKind.True;
        }

        int? bosId = null, padId = null;
        int[] eosIds = [];
        string generationPath = Path.Combine(dir, "generation_config.json");
        if (File.Exists(generationPath))
        {
            using var generation = ParseJson(generationPath);
            var root = generation.RootElement;
            if (bos is null && root.TryGetProperty("bos_token_id", out var b) && b.ValueKind == JsonValueKind.Number) bosId = b.GetInt32();
            if (pad is null && root.TryGetProperty("pad_token_id", out var p) && p.ValueKind == JsonValueKind.Number) padId = p.GetInt32();
            if (root.TryGetProperty("eos_token_id", out var e))
                eosIds = e.ValueKind switch
                {
                    JsonValueKind.Number => [e.GetInt32()],
                    JsonValueKind.Array => [.. e.EnumerateArray().Select(x => x.GetInt32())],
                    _ => [],
                };
        }
        return new HfTokenizer(definition, bos, eos, pad, bosId, eosIds, padId, cleanUp);
    }

    private static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException ex) { throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex); }
    }

    // "bos_token": "<s>" or {"content": "<s>", …} or null.
    private static string? TokenString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) ? c.GetString()
        : null;

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token string (byte-level alphabet for vocabulary tokens), or null for an unknown id.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>Token ids of <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the post-processor's template (e.g. BOS) is applied.</summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var scratch = t_scratch ??= new EncodeScratch();
        var ids = scratch.Ids;
        ids.Clear();
        if (addSpecialTokens) ids.AddRange(_definition.PrefixIds);
        EncodeCore(text, ids, scratch);
        if (addSpecialTokens) ids.AddRange(_definition.SuffixIds);
        var result = ids.ToArray();
        if (ids.Capacity > 1 << 16) scratch.Ids = [];  // do not pin a huge buffer after one long text
        return result;
    }

    /// <summary>Per-thread work lists, so encoding a short line allocates only its result.</summary>
    private sealed class EncodeScratch
    {
        public List<int> Ids = new(256);
        public readonly List<(int Start, int End, AddedToken? Token)> RawPieces = [];
        public readonly List<(int Start, int End, AddedToken? Token)> NormPieces = [];
        public readonly List<ReadOnlyMemory<char>> PreTokens = [];
        public readonly List<ReadOnlyMemory<char>> PreTokenScratch = [];
    }

    [ThreadStatic] private static EncodeScratch? t_scratch;

    private void EncodeCore(string text, List<int> ids, EncodeScratch scratch)
    {
        var rawPieces = scratch.RawPieces;
        var normPieces = scratch.NormPieces;
        var preTokens = scratch.PreTokens;
        rawPieces.Clear();
        if (_rawAdded.IsEmpty) rawPieces.Add((0, text.Length, null));
        else _rawAdded.Split(text, rawPieces);
        foreach (var (start, end, token) in rawPieces)
        {
            if (token is not null) { ids.Add(token.Id); continue; }
            string segment = start == 0 && end == text.Length ? text : text[start..end];
            if (_definition.Normalizer is not null) segment = _definition.Normalizer.Normalize(segment);
            if (_normalizedAdded.IsEmpty) { normPieces.Clear(); normPieces.Add((0, segment.Length, null)); }
            else _normalizedAdded.Split(segment, normPieces);
            foreach (var (s, e, t) in normPieces)
            {
                if (t is not null) { ids.Add(t.Id); continue; }
                PreTokenizerStep.Run(_definition.PreTokenizer, segment.AsMemory(s, e - s), preTokens, scratch.PreTokenScratch);
                foreach (var preToken in preTokens) ids.AddRange(EncodePreToken(preToken.Span));
            }
        }
    }

    /// <summary>
    /// Drops the per-pre-token cache (tens of MB after a whole corpus: a string, an int[] and a dictionary entry per
    /// distinct pre-token), for a caller that has finished bulk encoding and keeps the tokenizer for a few texts more.
    /// </summary>
    public void ClearCache()
    {
        _cache.Clear();
        Volatile.Write(ref _cacheCount, 0);
    }

    /// <summary>BPE of one pre-token (raw text; the byte-level mapping happens inside), cached.</summary>
    private int[] EncodePreToken(ReadOnlySpan<char> preToken)
    {
        if (_cacheLookup.TryGetValue(preToken, out var cached)) return cached;
        int[] ids;
        // ignore_merges: a pre-token that is itself a vocabulary token is emitted whole (tokenizers' bpe/model.rs).
        // Microsoft.ML.Tokenizers has no such option, so the check is ours.
        if (_definition.IgnoreMerges && _definition.Vocab.TryGetValue(ByteLevelAlphabet.Encode(preToken), out int whole))
            ids = [whole];
        else
            ids = [.. _bpe.EncodeToIds(preToken, considerPreTokenization: false, considerNormalization: false)];
        // ConcurrentDictionary.Count takes every lock, so the size is tracked here (approximately, under races).
        if (Volatile.Read(ref _cacheCount) >= MaxCacheEntries)
        {
            _cache.Clear();
            Volatile.Write(ref _cacheCount, 0);
        }
        if (_cache.TryAdd(preToken.ToString(), ids)) Interlocked.Increment(ref _cacheCount);
        return ids;
    }

    /// <summary>
    /// Text of <paramref name="ids"/>, as tokenizers' <c>TokenizerImpl::decode</c>: runs of vocabulary tokens become
    /// their bytes (ByteLevel decoder) read as UTF-8, invalid sequences becoming U+FFFD (Rust's from_utf8_lossy);
    /// an added token in between ends the run and is copied verbatim. Unknown ids are skipped, as tokenizers does.
    /// <paramref name="cleanUpSpaces"/> null uses <see cref="CleanUpTokenizationSpaces"/> (transformers' decode).
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false, bool? cleanUpSpaces = null)
    {
        var text = new StringBuilder(ids.Length * 4);
        var run = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToBytes.Length || _idToBytes[id] is not { } bytes) continue;
            if (_isAdded[id])
            {
                if (skipSpecialTokens && _isSpecial[id]) continue;
                text.Append(Encoding.UTF8.GetString(run.WrittenSpan));
                run.ResetWrittenCount();
                text.Append(_idToToken[id]);
            }
            else run.Write(bytes);
        }
        text.Append(Encoding.UTF8.GetString(run.WrittenSpan));
        return cleanUpSpaces ?? CleanUpTokenizationSpaces ? CleanUp(text.ToString()) : text.ToString();
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>: removes the space before punctuation and English contractions.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);
}
