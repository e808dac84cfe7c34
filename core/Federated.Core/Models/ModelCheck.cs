using Federated.Core.Tokenization;

namespace Federated.Core.Models;

/// <summary>
/// Checks that a model folder is usable before a long-running verb relies on it: the weights load with the shapes of
/// config.json (<see cref="CausalLm.Load"/>), every weight is finite, tokenizer.json loads and its ids fit the model's
/// vocabulary. Each failure is an <see cref="InvalidDataException"/> (or FileNotFoundException) naming the file or tensor.
/// </summary>
public static class ModelCheck
{
    /// <summary>Loads the model and tokenizer of <paramref name="directory"/> and checks them (see the class summary).</summary>
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

    /// <summary>Throws naming the first parameter (HF order) that holds a NaN or an infinity.</summary>
    public static void EnsureFinite(CausalLm model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var p in model.Parameters)
        {
            var data = p.Data;
            for (int i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i]))
                    throw new InvalidDataException($"Model {source}: tensor '{p.Name}' holds a non-finite value ({data[i]}) at element {i}.");
        }
    }
}
