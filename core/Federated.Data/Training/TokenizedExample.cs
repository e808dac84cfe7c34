using Federated.Core.Tokenization;

namespace Federated.Data.Training;

/// <summary>
/// One example ready for the engine: ids = prompt ids ++ response ids ++ EOS, and LossMask[t] true where token t is a
/// training target (the response and its EOS), so the loss is next-token cross-entropy on the response only.
/// </summary>
public sealed record TokenizedExample(int[] Ids, bool[] LossMask, int PromptLength)
{
    /// <summary>Number of tokens that count in the loss.</summary>
    public int TargetCount => LossMask.Count(static m => m);
}

/// <summary>
/// Turns instruction examples into <see cref="TokenizedExample"/>s with the documented prompt template
/// (docs/data.md). Prompt and response are tokenized separately so the mask boundary is exact; sequences over
/// <c>maxLength</c> lose the end of the response (the prompt is kept whole when it fits, else its start is cut).
/// </summary>
public sealed class ExampleEncoder(HfTokenizer tokenizer, int maxLength)
{
    /// <summary>The tokenizer used.</summary>
    public HfTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>Longest sequence produced (the model's context or less).</summary>
    public int MaxLength { get; } = maxLength >= 2 ? maxLength
        : throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "Sequences need room for at least two tokens.");

    /// <summary>Token ids of the prompt alone (what generation starts from).</summary>
    public int[] EncodePrompt(InstructionExample example)
    {
        var ids = Tokenizer.Encode(example.RawPrompt ?? PromptTemplate.Format(example));
        // Keep the end of an over-long prompt: the instruction header matters less than "### Response:".
        return ids.Length < MaxLength ? ids : ids[^(MaxLength - 1)..];
    }

    /// <summary>Prompt ++ response ++ EOS with the response-only loss mask.</summary>
    public TokenizedExample Encode(InstructionExample example)
    {
        var prompt = EncodePrompt(example);
        var response = Tokenizer.Encode(example.Response);
        int eos = Tokenizer.EosId ?? -1;
        int responseLength = Math.Min(response.Length + (eos >= 0 ? 1 : 0), MaxLength - prompt.Length);
        var ids = new int[prompt.Length + responseLength];
        var mask = new bool[ids.Length];
        prompt.CopyTo(ids, 0);
        for (int i = 0; i < responseLength; i++)
        {
            ids[prompt.Length + i] = i < response.Length ? response[i] : eos;
            mask[prompt.Length + i] = true;
        }
        return new TokenizedExample(ids, mask, prompt.Length);
    }

    /// <summary>Encodes many examples (order kept).</summary>
    public TokenizedExample[] EncodeAll(IReadOnlyList<InstructionExample> examples)
    {
        var result = new TokenizedExample[examples.Count];
        for (int i = 0; i < result.Length; i++) result[i] = Encode(examples[i]);
        return result;
    }
}
