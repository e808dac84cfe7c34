using Federated.Core.Models;

namespace Federated.Data.Pretraining;

/// <summary>Hyper-parameters of <see cref="Pretrainer"/> (the `federated pretrain` options). Defaults: the committed base model.</summary>
public sealed record PretrainOptions
{
    /// <summary>Model shape preset (<c>tiny</c>, <c>small</c>) or a config.json path; the vocabulary comes from the tokenizer.</summary>
    public string Config { get; init; } = "small";

    /// <summary>BPE vocabulary: 256 bytes + merges + the two special tokens.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Tokens per training row (≤ the model's max_position_embeddings).</summary>
    public int SeqLen { get; init; } = 128;

    /// <summary>Rows per step; tokens per step = BatchSize · SeqLen.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Peak AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>The cosine ends at LearningRate · MinLrRatio.</summary>
    public double MinLrRatio { get; init; } = 0.1;

    /// <summary>Linear warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 50;

    /// <summary>Total steps of the schedule; 0 = derive from <see cref="MaxMinutes"/> (timed on the first steps).</summary>
    public int Steps { get; init; }

    /// <summary>Wall-clock budget in minutes (0 = none): sets the step count when <see cref="Steps"/> is 0, and always stops training (resumable) when exceeded.</summary>
    public double MaxMinutes { get; init; }

    /// <summary>AdamW decoupled weight decay.</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>AdamW β2 (0.95 as in GPT-3/LLaMA pretraining).</summary>
    public float Beta2 { get; init; } = 0.95f;

    /// <summary>Gradient clipping by global L2 norm.</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Seed of the initial weights and of the data order.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Write a resumable checkpoint every this many steps (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;

    public void Validate()
    {
        if (VocabSize < 300) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "--vocab-size must be at least 300.");
        if (SeqLen < 8) throw new ArgumentOutOfRangeException(nameof(SeqLen), SeqLen, "--seq-len must be at least 8.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "--batch-size must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "--lr must be > 0.");
        if (!(MinLrRatio is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(MinLrRatio), MinLrRatio, "The minimum LR ratio must be in [0, 1].");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "--warmup must be ≥ 0.");
        if (Steps < 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "--steps must be ≥ 0.");
        if (!(MaxMinutes >= 0)) throw new ArgumentOutOfRangeException(nameof(MaxMinutes), MaxMinutes, "--minutes must be ≥ 0.");
        if (Steps == 0 && MaxMinutes == 0) throw new ArgumentException("Give --steps or --minutes (or both).");
        if (!(ClipNorm > 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "The clipping norm must be > 0.");
        if (CheckpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "--checkpoint-every must be ≥ 0.");
    }
}

/// <summary>Model shapes for pretraining: presets and config files.</summary>
public static class PretrainModels
{
    /// <summary>
    /// The shape of <paramref name="config"/> (<c>tiny</c>: 64 wide, 2 layers, for tests; <c>small</c>: 256 wide, 4 layers,
    /// 4 heads, 2 KV heads, SwiGLU 688, ≈ 3.9 M parameters with a 4096 vocabulary) or of a LLaMA-family config.json, with
    /// the vocabulary and special ids of the tokenizer, and at least <paramref name="minPositions"/> positions. Embeddings are tied.
    /// </summary>
    public static ModelConfig Resolve(string config, int vocabSize, int eosId, int padId, int minPositions)
    {
        ModelConfig shape = config.ToLowerInvariant() switch
        {
            "tiny" => Llama(dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 172),
            "small" => Llama(dim: 256, layers: 4, heads: 4, kvHeads: 2, ffn: 688),
            _ => File.Exists(config) ? ModelConfig.Load(config)
                : throw new FileNotFoundException($"--config '{config}' is neither tiny, small nor an existing config.json file.", config),
        };
        if (!shape.IsLlamaFamily) throw new ArgumentException($"--config '{config}' is not a LLaMA-family model; pretraining builds LlamaForCausalLM.");
        return shape with
        {
            Architecture = ModelArchitecture.Llama,
            VocabSize = vocabSize,
            MaxPositions = Math.Max(shape.MaxPositions, minPositions),
            TieWordEmbeddings = true,
            QkvBias = false,
            OutputBias = false,
            BosTokenId = eosId,
            EosTokenIds = [eosId],
            PadTokenId = padId,
        };

        static ModelConfig Llama(int dim, int layers, int heads, int kvHeads, int ffn) => new()
        {
            Architecture = ModelArchitecture.Llama, VocabSize = 1, Dim = dim, LayerCount = layers, HeadCount = heads,
            KvHeadCount = kvHeads, HeadDim = dim / heads, FfnDim = ffn, MaxPositions = 256, NormEps = 1e-5f,
            RopeTheta = 10000.0, TieWordEmbeddings = true,
        };
    }

    /// <summary>The Hugging Face config.json text of a LLaMA-family <paramref name="config"/> (keys the engine and transformers read).</summary>
    public static string ToConfigJson(ModelConfig config)
    {
        var json = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["vocab_size"] = config.VocabSize,
            ["hidden_size"] = config.Dim,
            ["intermediate_size"] = config.FfnDim,
            ["num_hidden_layers"] = config.LayerCount,
            ["num_attention_heads"] = config.HeadCount,
            ["num_key_value_heads"] = config.KvHeadCount,
            ["head_dim"] = config.HeadDim,
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = config.MaxPositions,
            ["rms_norm_eps"] = config.NormEps,
            ["rope_theta"] = config.RopeTheta,
            ["rope_scaling"] = null,
            ["attention_bias"] = false,
            ["attention_dropout"] = 0.0,
            ["mlp_bias"] = false,
            ["tie_word_embeddings"] = config.TieWordEmbeddings,
            ["initializer_range"] = 0.02,
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null,
            ["pad_token_id"] = config.PadTokenId,
            ["torch_dtype"] = "float32",
            ["use_cache"] = true,
        };
        return System.Text.Json.JsonSerializer.Serialize(json, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
