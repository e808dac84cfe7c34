using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Federated.Core.Tokenization;

/// <summary>Options of <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Total vocabulary: 256 byte tokens + merges + special tokens.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Special tokens, added after the merged tokens (ids VocabSize - count … VocabSize - 1).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["<|endoftext|>"];

    /// <summary>Split regex of the pre-tokenizer (default: Llama-3's).</summary>
    public string PreTokenizerPattern { get; init; } = SplitPattern.Llama3;

    /// <summary>A pair seen fewer times than this is never merged.</summary>
    public long MinFrequency { get; init; } = 2;

    public void Validate()
    {
        if (VocabSize < 256 + SpecialTokens.Count)
            throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "VocabSize must hold the 256 byte tokens and the special tokens.");
        if (SpecialTokens.Any(string.IsNullOrEmpty) || SpecialTokens.Distinct(StringComparer.Ordinal).Count() != SpecialTokens.Count)
            throw new ArgumentException("Special tokens must be distinct and non-empty.", nameof(SpecialTokens));
        if (MinFrequency < 1) throw new ArgumentOutOfRangeException(nameof(MinFrequency), MinFrequency, "MinFrequency must be at least 1.");
    }
}

/// <summary>
/// Byte-level BPE training as Hugging Face's <c>BpeTrainer</c> does it: count pre-token words, start from the 256
/// byte tokens, repeatedly merge the most frequent adjacent pair (frequency = sum over words of occurrences × word
/// count; ties → the pair with the smallest (left id, right id), as tokenizers' heap orders them), until the
/// vocabulary is full or no pair reaches <see cref="BpeTrainerOptions.MinFrequency"/>.
/// <para>
/// Incremental: pair counts live in a dictionary with a lazily updated max-heap; a merge re-counts only the words
/// that contain the pair (an index pair → words), so a merge costs O(occurrences), not O(corpus).
/// Where time goes: the first word count (one pass over the text) and heap pops of stale entries.
/// </para>
/// </summary>
public static class BpeTrainer
{
    /// <summary>Learns merges from <paramref name="corpus"/> and returns the tokenizer.json text.</summary>
    public static string Train(IEnumerable<string> corpus, BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        var specials = new HashSet<string>(options.SpecialTokens, StringComparer.Ordinal);

        // 1. Word counts over pre-tokens (special-token strings in the corpus are not learned from).
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = wordCounts.GetAlternateLookup<ReadOnlySpan<char>>();
        var split = new SplitStep(SplitPattern.FromRegex(options.PreTokenizerPattern), SplitBehavior.Isolated, invert: false);
        var matcher = new AddedTokenMatcher(options.SpecialTokens.Select((s, i) => (s, new AddedToken(i, s, true, false, false, false, false))));
        var segments = new List<(int Start, int End, AddedToken? Token)>();
        var pieces = new List<ReadOnlyMemory<char>>();
        foreach (var line in corpus)
        {
            if (string.IsNullOrEmpty(line)) continue;
            matcher.Split(line, segments);
            foreach (var (start, end, token) in segments)
            {
                if (token is not null) continue;
                pieces.Clear();
                split.Split(line.AsMemory(start, end - start), pieces);
                foreach (var piece in pieces)
                {
                    if (lookup.TryGetValue(piece.Span, out long c)) lookup[piece.Span] = c + 1;
                    else wordCounts[piece.ToString()] = 1;
                }
            }
        }

        // 2. Byte alphabet: id = position in GPT-2's bytes_to_unicode order.
        var vocab = new List<string>(options.VocabSize);
        vocab.AddRange(ByteLevelAlphabet.InGpt2Order().Select(c => c.ToString()));
        var byteToId = new int[256];
        for (int id = 0; id < 256; id++) byteToId[ByteLevelAlphabet.CharToByte[vocab[id][0]]] = id;

        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        foreach (var (word, count) in wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal)) // deterministic word order
        {
            var bytes = Encoding.UTF8.GetBytes(word);
            words.Add([.. bytes.Select(b => byteToId[b])]);
            counts.Add(count);
        }

        // 3. Initial pair counts and where each pair occurs.
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (int w = 0; w < words.Count; w++) AddPairs(words[w], counts[w], w, pairCounts, pairWords, sign: +1);
        var heap = new PriorityQueue<long, (long NegCount, long Pair)>();
        foreach (var (pair, count) in pairCounts) heap.Enqueue(pair, (-count, pair));

        // 4. Merge loop.
        var merges = new List<(int Left, int Right)>();
        var tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < vocab.Count; id++) tokenIds[vocab[id]] = id;
        int target = options.VocabSize - options.SpecialTokens.Count;
        var changed = new HashSet<long>();
        while (vocab.Count < target && heap.TryDequeue(out long best, out var priority))
        {
            long current = pairCounts.GetValueOrDefault(best);
            if (current != -priority.NegCount) // stale entry: re-queue with the current count
            {
                if (current > 0) heap.Enqueue(best, (-current, best));
                continue;
            }
            if (current < options.MinFrequency) break;
            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF);
            // Two merge paths can spell the same string ("ab"+"c", "a"+"bc"): the token keeps its first id (as HF).
            string spelled = vocab[left] + vocab[right];
            if (!tokenIds.TryGetValue(spelled, out int newId))
            {
                newId = vocab.Count;
                vocab.Add(spelled);
                tokenIds[spelled] = newId;
            }
            merges.Add((left, right));

            changed.Clear();
            foreach (int w in pairWords[best].ToArray())
            {
                var word = words[w];
                var merged = MergeWord(word, left, right, newId);
                if (merged.Length == word.Length) continue;
                AddPairs(word, counts[w], w, pairCounts, pairWords, sign: -1);
                AddPairs(merged, counts[w], w, pairCounts, pairWords, sign: +1, changed, newId);
                words[w] = merged;
            }
            pairCounts.Remove(best);
            pairWords.Remove(best);
            foreach (long pair in changed)
                if (pairCounts.TryGetValue(pair, out long c) && c > 0) heap.Enqueue(pair, (-c, pair));
        }

        return Write(vocab, merges, options);
    }

    private static int[] MergeWord(int[] word, int left, int right, int newId)
    {
        var result = new List<int>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right) { result.Add(newId); i++; }
            else result.Add(word[i]);
        }
        return [.. result];
    }

    private static void AddPairs(int[] word, long count, int w, Dictionary<long, long> pairCounts,
        Dictionary<long, HashSet<int>> pairWords, int sign, HashSet<long>? changed = null, int newId = -1)
    {
        for (int i = 0; i + 1 < word.Length; i++)
        {
            long pair = ((long)word[i] << 32) | (uint)word[i + 1];
            long updated = pairCounts.GetValueOrDefault(pair) + sign * count;
            if (updated == 0) pairCounts.Remove(pair);
            else pairCounts[pair] = updated;
            if (sign > 0)
            {
                if (!pairWords.TryGetValue(pair, out var set)) pairWords[pair] = set = [];
                set.Add(w);
                // Only pairs with the new token can have grown; the others shrank and are fixed lazily on pop.
                if (word[i] == newId || word[i + 1] == newId) changed?.Add(pair);
            }
        }
    }

    private static string Write(List<string> vocab, List<(int Left, int Right)> merges, BpeTrainerOptions options)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (int i = 0; i < options.SpecialTokens.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", vocab.Count + i);
                json.WriteString("content", options.SpecialTokens[i]);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNull("normalizer");
            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "Sequence");
            json.WriteStartArray("pretokenizers");
            json.WriteStartObject();
            json.WriteString("type", "Split");
            json.WriteStartObject("pattern");
            json.WriteString("Regex", options.PreTokenizerPattern);
            json.WriteEndObject();
            json.WriteString("behavior", "Isolated");
            json.WriteBoolean("invert", false);
            json.WriteEndObject();
            WriteByteLevel(json, null);
            json.WriteEndArray();
            json.WriteEndObject();
            WriteByteLevel(json, "post_processor");
            WriteByteLevel(json, "decoder");
            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", false);
            json.WriteStartObject("vocab");
            for (int id = 0; id < vocab.Count; id++) json.WriteNumber(vocab[id], id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach (var (left, right) in merges) json.WriteStringValue(vocab[left] + " " + vocab[right]);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string? name)
    {
        if (name is null) json.WriteStartObject();
        else json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", false);
        json.WriteBoolean("use_regex", false);
        json.WriteEndObject();
    }
}
