using System.Text.Json;
using Federated.Core.Generation;
using Federated.Core.Tokenization;

namespace Federated.Data.Pretraining;

/// <summary>
/// The pretraining token stream: every example formatted with the prompt template and its response
/// (<see cref="PromptTemplate.FormatWithResponse"/>), tokenized, followed by EOS. Epoch e concatenates the examples in
/// a permutation drawn from SplitMix64(seed, e) and cuts the stream into rows of <c>seqLen</c> tokens (the tail that
/// does not fill a row is dropped). Global row r is row r mod R of epoch r div R, so the batch of any step is a pure
/// function of (seed, step): resuming needs no data-loader state beyond the step.
/// </summary>
public sealed class PretrainCorpus
{
    /// <summary>The two special tokens: end of text (also BOS and EOS) and padding.</summary>
    public const string EndOfText = "<|endoftext|>";
    public const string Pad = "<|pad|>";

    private readonly int[][] _examples;
    private readonly int _eos;
    private readonly int _seed;
    private int[] _stream = [];
    private int _streamEpoch = -1;

    public PretrainCorpus(int[][] examples, int eosId, int seqLen, int seed)
    {
        if (examples.Length == 0) throw new ArgumentException("The pretraining corpus is empty.", nameof(examples));
        _examples = examples;
        _eos = eosId;
        _seed = seed;
        SeqLen = seqLen;
        TokensPerEpoch = examples.Sum(e => (long)e.Length + 1);
        RowsPerEpoch = checked((int)(TokensPerEpoch / seqLen));
        if (RowsPerEpoch < 1) throw new ArgumentException($"The corpus has {TokensPerEpoch} tokens, fewer than one row of {seqLen}.", nameof(seqLen));
    }

    /// <summary>Tokens per training row.</summary>
    public int SeqLen { get; }

    /// <summary>Tokens in one pass over the examples (EOS included).</summary>
    public long TokensPerEpoch { get; }

    /// <summary>Full rows per epoch.</summary>
    public int RowsPerEpoch { get; }

    /// <summary>Tokenizes every example's formatted text (template + response) with the tokenizer.</summary>
    public static PretrainCorpus Create(IReadOnlyList<InstructionExample> examples, HfTokenizer tokenizer, int seqLen, int seed)
    {
        int eos = tokenizer.EosId ?? throw new ArgumentException("The tokenizer has no EOS token.", nameof(tokenizer));
        var ids = new int[examples.Count][];
        for (int i = 0; i < ids.Length; i++) ids[i] = tokenizer.Encode(PromptTemplate.FormatWithResponse(examples[i]));
        return new PretrainCorpus(ids, eos, seqLen, seed);
    }

    /// <summary>Writes rows step·batchSize … step·batchSize + batchSize − 1 into <paramref name="destination"/> [batchSize, seqLen].</summary>
    public void FillBatch(long step, int batchSize, Span<int> destination)
    {
        if (destination.Length != batchSize * SeqLen)
            throw new ArgumentException($"destination has {destination.Length} slots, expected {batchSize} × {SeqLen}.", nameof(destination));
        for (int b = 0; b < batchSize; b++)
        {
            long row = step * batchSize + b;
            int epoch = checked((int)(row / RowsPerEpoch));
            int rowInEpoch = (int)(row % RowsPerEpoch);
            if (epoch != _streamEpoch) BuildStream(epoch);
            _stream.AsSpan(rowInEpoch * SeqLen, SeqLen).CopyTo(destination.Slice(b * SeqLen, SeqLen));
        }
    }

    /// <summary>Token counts of one epoch (the unigram baseline's statistics).</summary>
    public long[] TokenCounts(int vocabSize)
    {
        var counts = new long[vocabSize];
        foreach (var example in _examples)
            foreach (int id in example) counts[id]++;
        counts[_eos] += _examples.Length;
        return counts;
    }

    private void BuildStream(int epoch)
    {
        var order = new int[_examples.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new SplitMix64(((ulong)(uint)_seed << 32) ^ (ulong)(uint)epoch ^ 0xC0FFEE_0000UL);
        for (int i = order.Length - 1; i > 0; i--) // Fisher–Yates
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        if (_stream.Length != TokensPerEpoch) _stream = new int[TokensPerEpoch];
        int at = 0;
        foreach (int i in order)
        {
            _examples[i].CopyTo(_stream, at);
            at += _examples[i].Length;
            _stream[at++] = _eos;
        }
        _streamEpoch = epoch;
    }

    /// <summary>Trains the byte-level BPE tokenizer on the formatted texts; returns the tokenizer.json text.</summary>
    public static string TrainTokenizer(IReadOnlyList<InstructionExample> examples, int vocabSize) =>
        BpeTrainer.Train(examples.Select(PromptTemplate.FormatWithResponse),
            new BpeTrainerOptions { VocabSize = vocabSize, SpecialTokens = [EndOfText, Pad] });

    /// <summary>
    /// Writes tokenizer.json, tokenizer_config.json (bos = eos = &lt;|endoftext|&gt;, pad = &lt;|pad|&gt;) and
    /// generation_config.json into <paramref name="directory"/>, then loads the result.
    /// </summary>
    public static HfTokenizer WriteTokenizer(string directory, string tokenizerJson, int modelMaxLength)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizerJson);
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["bos_token"] = EndOfText,
            ["eos_token"] = EndOfText,
            ["pad_token"] = Pad,
            ["model_max_length"] = modelMaxLength,
            ["clean_up_tokenization_spaces"] = false,
            ["add_bos_token"] = false,
            ["add_eos_token"] = false,
        }, options));
        var tokenizer = HfTokenizer.Load(directory);
        int eos = tokenizer.EosId ?? throw new InvalidDataException("The trained tokenizer lacks <|endoftext|>.");
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["bos_token_id"] = eos,
            ["eos_token_id"] = eos,
            ["pad_token_id"] = tokenizer.PadId,
            ["do_sample"] = false,
            ["max_new_tokens"] = 64,
        }, options));
        return HfTokenizer.Load(directory);
    }
}
