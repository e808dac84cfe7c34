using Federated.Core.Models;

namespace Federated.Core.IO;

/// <summary>
/// Writes a trained model as a Hugging Face folder next to nothing else: the base folder's configuration and tokenizer
/// files (config.json, tokenizer.json, tokenizer_config.json, generation_config.json, …) copied as they are, and the
/// model's current weights as one F32 <c>model.safetensors</c>. The base folder's own weights (single or sharded), its
/// shard index and its model card are not copied. The result loads with <see cref="CausalLm.Load"/> and transformers.
/// </summary>
public static class ModelFolder
{
    public static void Write(CausalLm model, string baseDirectory, string outDirectory)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Directory.Exists(baseDirectory)) throw new DirectoryNotFoundException($"Base model folder '{baseDirectory}' does not exist.");
        if (Path.GetFullPath(baseDirectory) == Path.GetFullPath(outDirectory))
            throw new ArgumentException($"Refusing to overwrite the base model folder '{baseDirectory}'.", nameof(outDirectory));
        Directory.CreateDirectory(outDirectory);
        foreach (var file in Directory.EnumerateFiles(baseDirectory))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) || name == "model.safetensors.index.json" || name == "README.md") continue;
            File.Copy(file, Path.Combine(outDirectory, name), overwrite: true);
        }
        model.SaveWeights(Path.Combine(outDirectory, "model.safetensors"));
    }
}
