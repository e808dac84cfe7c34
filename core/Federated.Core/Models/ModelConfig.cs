using System.Text.Json;

namespace Federated.Core.Models;

/// <summary>The model families the engine runs. LLaMA, Qwen2 and Mistral share one block; GPT-2 has its own.</summary>
public enum ModelArchitecture { Llama, Qwen2, Mistral, Gpt2 }

/// <summary>
/// The shape and options of a causal LM, parsed from Hugging Face's config.json.
/// Vocabulary: dim (hidden size), layerCount, headCount, kvHeadCount, headDim, ffnDim, vocabSize.
/// </summary>
public sealed record ModelConfig
{
    public required ModelArchitecture Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int Dim { get; init; }
    public required int LayerCount { get; init; }
    public required int HeadCount { get; init; }
    public required int KvHeadCount { get; init; }
    public required int HeadDim { get; init; }
    public required int FfnDim { get; init; }
    /// <summary>Context length: max_position_embeddings (n_positions for GPT-2).</summary>
    public required int MaxPositions { get; init; }
    /// <summary>rms_norm_eps (LLaMA family) or layer_norm_epsilon (GPT-2).</summary>
    public required float NormEps { get; init; }
    /// <summary>RoPE base (unused by GPT-2).</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>RoPE frequency scaling (rope_scaling / rope_parameters): null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Mistral's sliding window: query i sees keys j with i − j &lt; window (null: full causal).</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Whether the output projection is the token embedding (no lm_head.weight stored).</summary>
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>Biases on q/k/v projections (Qwen2; LLaMA with attention_bias).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on o_proj (LLaMA with attention_bias).</summary>
    public bool OutputBias { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    /// <summary>Whether this is the LLaMA-style block (RMSNorm, RoPE, SwiGLU).</summary>
    public bool IsLlamaFamily => Architecture != ModelArchitecture.Gpt2;

    /// <summary>Reads config.json; the path may be the file or the checkpoint folder.</summary>
    public static ModelConfig Load(string path)
    {
        if (Directory.Exists(path)) path = System.IO.Path.Combine(path, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"Model config '{source}' is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var r = doc.RootElement;
            string arch = r.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
                ? a[0].GetString() ?? "" : "";
            string modelType = Str(r, "model_type") ?? "";
            var kind = (arch, modelType) switch
            {
                ("LlamaForCausalLM", _) or ("", "llama") => ModelArchitecture.Llama,
                ("Qwen2ForCausalLM", _) or ("", "qwen2") => ModelArchitecture.Qwen2,
                ("MistralForCausalLM", _) or ("", "mistral") => ModelArchitecture.Mistral,
                ("GPT2LMHeadModel", _) or ("", "gpt2") => ModelArchitecture.Gpt2,
                _ => throw new InvalidDataException(
                    $"Model config '{source}' names architecture '{(arch.Length > 0 ? arch : modelType)}'; supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM, GPT2LMHeadModel."),
            };
            try
            {
                var eos = new List<int>();
                if (r.TryGetProperty("eos_token_id", out var e))
                {
                    if (e.ValueKind == JsonValueKind.Number) eos.Add(e.GetInt32());
                    else if (e.ValueKind == JsonValueKind.Array) eos.AddRange(e.EnumerateArray().Select(x => x.GetInt32()));
                }
                return kind == ModelArchitecture.Gpt2 ? ParseGpt2(r, source, eos) : ParseLlama(r, kind, source, eos);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"Model config '{source}' is missing or has a malformed required key: {ex.Message}", ex);
            }
        }
    }

    private static ModelConfig ParseLlama(JsonElement r, ModelArchitecture kind, string source, List<int> eos)
    {
        int dim = Int(r, "hidden_size", source);
        int heads = Int(r, "num_attention_heads", source);
        int kvHeads = IntOr(r, "num_key_value_heads", heads);
        int headDim = IntOr(r, "head_dim", dim / heads);
        if (Bool(r, "mlp_bias", false))
            throw new InvalidDataException($"Model config '{source}' sets mlp_bias, which this engine does not support.");
        bool attentionBias = Bool(r, "attention_bias", false);
        double theta = 10000.0;
        if (r.TryGetProperty("rope_theta", out var t) && t.ValueKind == JsonValueKind.Number) theta = t.GetDouble();
        else if (r.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind == JsonValueKind.Object
                 && rp.TryGetProperty("rope_theta", out var t2) && t2.ValueKind == JsonValueKind.Number) theta = t2.GetDouble();
        RopeScaling? scaling = null;
        foreach (var key in new[] { "rope_scaling", "rope_parameters" })
        {
            if (scaling is not null || !r.TryGetProperty(key, out var rs) || rs.ValueKind != JsonValueKind.Object) continue;
            string type = Str(rs, "rope_type") ?? Str(rs, "type") ?? "default";
            scaling = type switch
            {
                "default" => null,
                "linear" => new RopeScaling("linear", DoubleOr(rs, "factor", 1), 0, 0, 0),
                "llama3" => new RopeScaling("llama3", DoubleOr(rs, "factor", 8), DoubleOr(rs, "low_freq_factor", 1),
                    DoubleOr(rs, "high_freq_factor", 4), IntOr(rs, "original_max_position_embeddings", 8192)),
                _ => throw new InvalidDataException($"Model config '{source}' uses rope scaling type '{type}'; supported: default, linear, llama3."),
            };
        }
        int? window = kind == ModelArchitecture.Mistral ? IntOrNull(r, "sliding_window") : null;
        var config = new ModelConfig
        {
            Architecture = kind,
            VocabSize = Int(r, "vocab_size", source),
            Dim = dim,
            LayerCount = Int(r, "num_hidden_layers", source),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            FfnDim = Int(r, "intermediate_size", source),
            MaxPositions = IntOr(r, "max_position_embeddings", 2048),
            NormEps = (float)DoubleOr(r, "rms_norm_eps", 1e-6),
            RopeTheta = theta,
            RopeScaling = scaling,
            SlidingWindow = window,
            TieWordEmbeddings = Bool(r, "tie_word_embeddings", false),
            QkvBias = kind == ModelArchitecture.Qwen2 || attentionBias,
            OutputBias = kind != ModelArchitecture.Qwen2 && attentionBias,
            BosTokenId = IntOrNull(r, "bos_token_id"),
            EosTokenIds = eos,
            PadTokenId = IntOrNull(r, "pad_token_id"),
        };
        config.Validate(source);
        return config;
    }

    private static ModelConfig ParseGpt2(JsonElement r, string source, List<int> eos)
    {
        int dim = Int(r, "n_embd", source);
        int heads = Int(r, "n_head", source);
        string act = Str(r, "activation_function") ?? "gelu_new";
        if (act != "gelu_new")
            throw new InvalidDataException($"Model config '{source}' uses activation_function '{act}'; only gelu_new is supported for GPT-2.");
        if (Bool(r, "scale_attn_by_inverse_layer_idx", false) || Bool(r, "reorder_and_upcast_attn", false))
            throw new InvalidDataException($"Model config '{source}' sets scale_attn_by_inverse_layer_idx or reorder_and_upcast_attn, which this engine does not support.");
        var config = new ModelConfig
        {
            Architecture = ModelArchitecture.Gpt2,
            VocabSize = Int(r, "vocab_size", source),
            Dim = dim,
            LayerCount = Int(r, "n_layer", source),
            HeadCount = heads,
            KvHeadCount = heads,
            HeadDim = dim / heads,
            FfnDim = IntOr(r, "n_inner", 4 * dim),
            MaxPositions = IntOr(r, "n_positions", 1024),
            NormEps = (float)DoubleOr(r, "layer_norm_epsilon", 1e-5),
            TieWordEmbeddings = Bool(r, "tie_word_embeddings", true),
            BosTokenId = IntOrNull(r, "bos_token_id"),
            EosTokenIds = eos,
            PadTokenId = IntOrNull(r, "pad_token_id"),
        };
        config.Validate(source);
        return config;
    }

    private void Validate(string source)
    {
        if (VocabSize <= 0 || Dim <= 0 || LayerCount <= 0 || HeadCount <= 0 || KvHeadCount <= 0 || HeadDim <= 0 || FfnDim <= 0 || MaxPositions <= 0)
            throw new InvalidDataException($"Model config '{source}' has a non-positive size (vocab {VocabSize}, dim {Dim}, layers {LayerCount}, heads {HeadCount}/{KvHeadCount}, headDim {HeadDim}, ffn {FfnDim}, positions {MaxPositions}).");
        if (HeadCount % KvHeadCount != 0)
            throw new InvalidDataException($"Model config '{source}': num_attention_heads {HeadCount} is not a multiple of num_key_value_heads {KvHeadCount}.");
        if (IsLlamaFamily && HeadDim % 2 != 0)
            throw new InvalidDataException($"Model config '{source}': head_dim {HeadDim} must be even for rotary embeddings.");
        if (!IsLlamaFamily && HeadDim * HeadCount != Dim)
            throw new InvalidDataException($"Model config '{source}': n_embd {Dim} is not divisible by n_head {HeadCount}.");
    }

    private static string? Str(JsonElement r, string key) =>
        r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int Int(JsonElement r, string key, string source) =>
        r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32()
            : throw new InvalidDataException($"Model config '{source}' lacks the integer key '{key}'.");

    private static int IntOr(JsonElement r, string key, int fallback) =>
        r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;

    private static int? IntOrNull(JsonElement r, string key) =>
        r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static double DoubleOr(JsonElement r, string key, double fallback) =>
        r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;

    private static bool Bool(JsonElement r, string key, bool fallback) =>
        r.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
}

/// <summary>
/// RoPE frequency scaling as transformers' ROPE_INIT_FUNCTIONS: "linear" divides every inverse frequency by factor;
/// "llama3" divides low frequencies (wavelength &gt; original/lowFreqFactor) by factor, keeps high ones
/// (wavelength &lt; original/highFreqFactor) and blends in between with s = (original/wavelength − low)/(high − low).
/// </summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions)
{
    /// <summary>The scaled inverse frequency.</summary>
    public float Apply(float invFreq)
    {
        if (Type == "linear") return (float)(invFreq / Factor);
        double wavelen = 2 * Math.PI / invFreq;
        double lowWavelen = OriginalMaxPositions / LowFreqFactor, highWavelen = OriginalMaxPositions / HighFreqFactor;
        if (wavelen < highWavelen) return invFreq;
        if (wavelen > lowWavelen) return (float)(invFreq / Factor);
        double smooth = (OriginalMaxPositions / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
        return (float)((1 - smooth) * invFreq / Factor + smooth * invFreq);
    }
}
