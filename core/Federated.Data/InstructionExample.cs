namespace Federated.Data;

/// <summary>
/// One instruction-tuning example in the Dolly-15K schema (instruction, context, response, category),
/// plus the optional <see cref="Task"/> and <see cref="Word"/> fields of the built-in WordNet task.
/// A plain <c>{"prompt","response"}</c> record sets <see cref="RawPrompt"/>; it is then used verbatim
/// instead of the template (see <see cref="PromptTemplate"/>).
/// </summary>
/// <param name="Instruction">What the model is asked to do.</param>
/// <param name="Context">Optional input for the instruction; empty when there is none.</param>
/// <param name="Response">The reference answer (training target and evaluation reference).</param>
/// <param name="Category">The non-IID key used by partitioners (Dolly's category, WordNet's lexicographer file).</param>
/// <param name="Task">Task name (<c>definition</c>, <c>category</c>) or null.</param>
/// <param name="Word">The WordNet word the record is about, or null.</param>
/// <param name="RawPrompt">A ready-made prompt that bypasses the template, or null.</param>
public sealed record InstructionExample(
    string Instruction,
    string Context,
    string Response,
    string Category,
    string? Task = null,
    string? Word = null,
    string? RawPrompt = null)
{
    /// <summary>The category given to records whose file has none.</summary>
    public const string DefaultCategory = "default";

    /// <summary>A plain prompt/response record (no template).</summary>
    public static InstructionExample FromPrompt(string prompt, string response, string? category = null) =>
        new("", "", response, string.IsNullOrEmpty(category) ? DefaultCategory : category, RawPrompt: prompt);
}
