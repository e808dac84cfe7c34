using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Training;
using Federated.TestKit;

namespace Federated.Privacy.Tests;

/// <summary>The tiny-llama fixture (vocab 708, dim 64, 2 layers, untied embeddings) and a few WordNet-style records.</summary>
internal static class TinyModel
{
    public static string Directory => Fixtures.Path("tiny-llama");

    /// <summary>Sixteen short definitions: the first half are used as members, the second half as non-members.</summary>
    public static readonly InstructionExample[] Records = TinyRecords.Definitions;

    public static CausalLm LoadModel() => CausalLm.Load(Directory);

    public static HfTokenizer LoadTokenizer() => HfTokenizer.Load(Directory);

    public static TokenizedExample[] Encode(HfTokenizer tokenizer) => new ExampleEncoder(tokenizer, 96).EncodeAll(Records);

    /// <summary>A raw text as one sequence whose every next token is scored (no prompt).</summary>
    public static TokenizedExample EncodeText(HfTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text);
        var mask = new bool[ids.Length];
        for (int i = 1; i < mask.Length; i++) mask[i] = true;
        return new TokenizedExample(ids, mask, 0);
    }
}

/// <summary>FFA-LoRA (B trained, A frozen from a seed) on every projection of the tiny model, rank 16.</summary>
internal static class TinyLora
{
    public static readonly Core.Lora.LoraConfig Config = new()
    {
        Rank = 16, Alpha = 16, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    };

    /// <summary>A fresh adapter (B = 0) attached to the model and the server's gradient oracle for its B-only update.</summary>
    public static Gradients.GradientOracle Oracle(CausalLm model, ulong seed = 7)
    {
        var adapter = Core.Lora.LoraAdapter.Create(model, Config, seed);
        var layout = Core.Lora.LoraUpdateLayout.Create(adapter, freezeA: true);
        return Gradients.GradientOracle.ForLora(model, adapter, layout);
    }

    /// <summary>The client's update after one plain SGD step on its batch: Δ = −η·∇L(batch) (the engine's backward).</summary>
    public static float[] OneStepUpdate(Gradients.GradientOracle oracle, IReadOnlyList<TokenizedExample> batch, float learningRate = 0.01f) =>
        [.. oracle.Gradient(batch).Select(g => -learningRate * g)];
}
