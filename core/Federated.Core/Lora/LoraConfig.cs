using System.Text.Json;
using System.Text.Json.Nodes;

namespace Federated.Core.Lora;

/// <summary>
/// The parts of PEFT's adapter_config.json the engine honours: r, lora_alpha, use_rslora, target_modules,
/// fan_in_fan_out. Scaling s = alpha / r (rsLoRA: alpha / √r).
/// </summary>
public sealed record LoraConfig
{
    public required int Rank { get; init; }
    public required float Alpha { get; init; }
    public bool UseRsLora { get; init; }
    /// <summary>Module name suffixes to wrap (e.g. q_proj, c_attn), matched against the last path component.</summary>
    public required IReadOnlyList<string> TargetModules { get; init; }
    /// <summary>True for GPT-2 Conv1D targets (weights stored [in, out]); affects merging only.</summary>
    public bool FanInFanOut { get; init; }
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>s = alpha / r, or alpha / √r with rsLoRA.</summary>
    public float Scaling => UseRsLora ? (float)(Alpha / Math.Sqrt(Rank)) : Alpha / Rank;

    /// <summary>Whether a module path is targeted (its last component is one of <see cref="TargetModules"/>).</summary>
    public bool Targets(string modulePath)
    {
        string last = modulePath[(modulePath.LastIndexOf('.') + 1)..];
        return TargetModules.Contains(last) || TargetModules.Contains(modulePath);
    }

    /// <summary>Reads adapter_config.json.</summary>
    public static LoraConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Adapter config '{path}' does not exist.", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            if (r.TryGetProperty("peft_type", out var pt) && pt.GetString() is { } type && type != "LORA")
                throw new InvalidDataException($"Adapter config '{path}' has peft_type '{type}'; only LORA is supported.");
            if (r.TryGetProperty("use_dora", out var dora) && dora.ValueKind == JsonValueKind.True)
                throw new InvalidDataException($"Adapter config '{path}' enables DoRA, which is not supported.");
            foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
                if (r.TryGetProperty(key, out var pattern) && pattern.ValueKind == JsonValueKind.Object && pattern.EnumerateObject().Any())
                    throw new InvalidDataException($"Adapter config '{path}' sets {key}; per-module ranks or alphas are not supported.");
            int rank = r.GetProperty("r").GetInt32();
            if (rank <= 0) throw new InvalidDataException($"Adapter config '{path}' has r = {rank}; it must be positive.");
            var targets = r.GetProperty("target_modules") switch
            {
                { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(x => x.GetString()!).ToList(),
                { ValueKind: JsonValueKind.String } s => [s.GetString()!],
                _ => throw new InvalidDataException($"Adapter config '{path}' has no target_modules list."),
            };
            return new LoraConfig
            {
                Rank = rank,
                Alpha = r.TryGetProperty("lora_alpha", out var al) ? al.GetSingle() : 8f,
                UseRsLora = r.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True,
                TargetModules = targets,
                FanInFanOut = r.TryGetProperty("fan_in_fan_out", out var ff) && ff.ValueKind == JsonValueKind.True,
                BaseModelNameOrPath = r.TryGetProperty("base_model_name_or_path", out var bm) && bm.ValueKind == JsonValueKind.String ? bm.GetString() : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Adapter config '{path}' is malformed: {e.Message}", e);
        }
    }

    /// <summary>Writes adapter_config.json with the keys PEFT writes for a plain LoRA adapter.</summary>
    public void Save(string path)
    {
        var targets = new JsonArray();
        foreach (var t in TargetModules.Order(StringComparer.Ordinal)) targets.Add(t);
        var o = new JsonObject
        {
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = 0.0,
            ["peft_type"] = "LORA",
            ["r"] = Rank,
            ["target_modules"] = targets,
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        File.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
