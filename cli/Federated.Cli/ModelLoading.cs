using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Tokenization;

namespace Federated.Cli;

/// <summary>Loads what the inference verbs share: a checkpoint folder, its tokenizer and an optional PEFT adapter, and
/// refuses non-finite weights (<see cref="ModelCheck"/>: exit 2 naming the folder and the tensor).</summary>
internal static class ModelLoading
{
    public static (CausalLm Model, HfTokenizer Tokenizer) Load(string modelDirectory, string? adapterDirectory)
    {
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        var model = CausalLm.Load(modelDirectory);
        model.KeepActivationsForBackward = false;
        ModelCheck.EnsureFinite(model.Parameters, modelDirectory);
        var tokenizer = HfTokenizer.Load(modelDirectory);
        if (adapterDirectory is not null)
        {
            if (!Directory.Exists(adapterDirectory)) throw new DirectoryNotFoundException($"Adapter folder '{adapterDirectory}' does not exist.");
            model.AttachAdapter(LoraAdapter.Load(model, adapterDirectory));
            ModelCheck.EnsureFinite(model.Adapter!.Parameters, adapterDirectory);
        }
        return (model, tokenizer);
    }
}
