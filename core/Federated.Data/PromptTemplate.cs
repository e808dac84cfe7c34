namespace Federated.Data;

/// <summary>
/// The fixed Alpaca/Dolly-style prompt used by FedKSeed (docs/data.md states it byte for byte).
/// With a context:
/// <code>
/// Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.
///
/// ### Instruction:
/// {instruction}
///
/// ### Input:
/// {context}
///
/// ### Response:
/// </code>
/// Without a context (empty or whitespace) the header's middle clause and the <c>### Input:</c> block are dropped:
/// <code>
/// Below is an instruction that describes a task. Write a response that appropriately completes the request.
///
/// ### Instruction:
/// {instruction}
///
/// ### Response:
/// </code>
/// The prompt ends with "### Response:\n"; the training target is the response text that follows it.
/// Records with a <see cref="InstructionExample.RawPrompt"/> use that prompt verbatim.
/// </summary>
public static class PromptTemplate
{
    /// <summary>Header used when the record has a context.</summary>
    public const string HeaderWithInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.";

    /// <summary>Header used when the record has no context.</summary>
    public const string HeaderWithoutInput =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

    /// <summary>The prompt for a record (everything the model sees before the response).</summary>
    public static string Format(InstructionExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (example.RawPrompt is not null) return example.RawPrompt;
        return Format(example.Instruction, example.Context);
    }

    /// <summary>The prompt for an instruction and an optional context.</summary>
    public static string Format(string instruction, string? context)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        return string.IsNullOrWhiteSpace(context)
            ? $"{HeaderWithoutInput}\n\n### Instruction:\n{instruction}\n\n### Response:\n"
            : $"{HeaderWithInput}\n\n### Instruction:\n{instruction}\n\n### Input:\n{context}\n\n### Response:\n";
    }

    /// <summary>Prompt followed by the response: the text a causal LM is trained on.</summary>
    public static string FormatWithResponse(InstructionExample example) => Format(example) + example.Response;
}
