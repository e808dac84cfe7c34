using Federated.Core.Tokenization;

namespace Federated.Core.Models;

/// <summary>
/// Checks that a model is usable before a verb relies on it. A checkpoint with NaN or ±∞ weights is bad input (a
/// diverged training run, a corrupt download): without this check `score` would print `loss NaN` and exit 0, and
/// `serve` would hand clients a model they cannot train. The inference verbs (`score`, `eval`, `generate`) call
/// <see cref="EnsureFinite(CausalLm, string)"/> on what they load; `serve` calls <see cref="Load"/> at start. Each
/// failure is an <see cref="InvalidDataException"/> (or FileNotFoundException) naming the file or tensor.
/// </summary>
public static class ModelCheck
{
    /// <summary>Loads the model and tokenizer of <paramref name="directory"/> and checks them: the weights load with the
    /// shapes of config.json (<see cref="CausalLm.Load"/>), every weight is finite, tokenizer.json loads and its ids fit
    /// the model's vocabulary.</summary>
    public static (CausalLm Model, HfTokenizer Tokenizer) Load(string directory)
    {
        var model = CausalLm.Load(directory);
        EnsureFinite(model, directory);
        var tokenizer = HfTokenizer.Load(directory);
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new InvalidDataException($"{Path.Combine(directory, "tokenizer.json")} has token ids up to {tokenizer.VocabSize - 1}; " +
                $"the model's vocab_size is {model.Config.VocabSize}.");
        return (model, tokenizer);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="source"/>, the first tensor (HF or PEFT
    /// name, base weights then adapter) holding a non-finite value, the element index and the value.</summary>
    public static void EnsureFinite(CausalLm model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        EnsureFinite(model.Parameters, source);
        if (model.Adapter is { } adapter) EnsureFinite(adapter.Parameters, source);
    }

    /// <inheritdoc cref="EnsureFinite(CausalLm, string)"/>
    public static void EnsureFinite(IEnumerable<ParameterTensor> tensors, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var tensor in tensors)
        {
            var data = tensor.Data;
            for (int i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i]))
                    throw new InvalidDataException(
                        $"Model {source}: tensor '{tensor.Name}' holds a non-finite value ({data[i]}) at element {i}; the model is unusable.");
        }
    }
}
