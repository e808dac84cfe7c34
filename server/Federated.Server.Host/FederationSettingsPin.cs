using System.Globalization;
using System.Text.Json;
using Federated.Server.Domain;
using Federated.Server.Storage;

namespace Federated.Server.Host;

/// <summary>
/// What a federation's state pins: the settings its stored model versions only make sense with — the method, the base
/// model's fingerprint, and the method's model-defining settings (FedKSeed: K, the seed pool's master seed, η, the
/// trained tensors;
/// ComPEFT: LoRA rank, α, targets, FFA, the shared A's seed, the update length) and the selection seed. The first start
/// on a store records them (<see cref="IFederationStore.PinSettings"/>); every later start must bring the same, else
/// it stops with one line naming each difference. Settings that only shape later rounds (rounds, quorum, M, deadlines,
/// τ, ε, FedKSeed-Pro, density, merge, error feedback, batch size, tokens, limits) may change between starts.
/// </summary>
internal static class FederationSettingsPin
{
    /// <summary>Records the settings of <paramref name="options"/> on a new store, or checks them against the recorded ones.</summary>
    /// <exception cref="InvalidDataException">The store was created with other settings (the message names each one).</exception>
    public static void Apply(IFederationStore store, FederationServerOptions options, string storeName)
    {
        var current = Describe(options);
        string stored = store.PinSettings(JsonSerializer.Serialize(current));
        Dictionary<string, string> pinned;
        try
        {
            pinned = JsonSerializer.Deserialize<Dictionary<string, string>>(stored) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The federation state {storeName} has unreadable pinned settings: {ex.Message}", ex);
        }
        // Another method has other settings: name the method, not every setting that only one of them has.
        bool sameMethod = pinned.GetValueOrDefault("method") == current.GetValueOrDefault("method");
        var keys = sameMethod ? pinned.Keys.Union(current.Keys) : pinned.Keys.Intersect(current.Keys);
        var differences = keys.Order(StringComparer.Ordinal)
            .Where(key => pinned.GetValueOrDefault(key) != current.GetValueOrDefault(key))
            .Select(key => $"{key} {pinned.GetValueOrDefault(key) ?? "(unset)"} → {current.GetValueOrDefault(key) ?? "(unset)"}")
            .ToList();
        if (differences.Count > 0)
            throw new InvalidDataException($"The federation state {storeName} was created with other settings, which its stored model " +
                $"versions depend on (stored → now): {string.Join("; ", differences)}. Start with the stored settings, or use a new data directory.");
    }

    /// <summary>The pinned settings of <paramref name="options"/> as name → invariant text.</summary>
    public static SortedDictionary<string, string> Describe(FederationServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["method"] = options.StrategyFactory is null ? options.Method.ToString() : $"{options.Method} (custom strategy)",
            ["selection_seed"] = Text(options.Coordinator.SelectionSeed),
        };
        if (options.BaseModel is { } model) settings["base_model_sha256"] = Convert.ToHexStringLower(model.Sha256);
        if (options.StrategyFactory is not null) return settings;
        if (options.Method == TrainingMethodKind.FedKSeed)
        {
            var f = options.FedKSeed;
            settings["seed_count"] = Text(f.SeedCount);
            settings["seed_pool_master_seed"] = Text(f.SeedPoolMasterSeed);
            settings["learning_rate"] = Text(f.LearningRate);
            settings["trainable"] = string.IsNullOrEmpty(f.Trainable) ? "all" : f.Trainable;
        }
        else
        {
            var c = options.ComPeft;
            settings["lora_rank"] = Text(c.Rank);
            settings["lora_alpha"] = Text(c.Alpha);
            settings["lora_targets"] = string.Join(",", c.TargetModules);
            settings["freeze_a"] = c.FreezeA ? "true" : "false";
            settings["lora_a_seed"] = Text(c.LoraASeed);
            settings["update_element_count"] = Text(c.UpdateElementCount);
        }
        return settings;
    }

    private static string Text<T>(T value) where T : IFormattable =>
        value is float f ? f.ToString("R", CultureInfo.InvariantCulture) : value.ToString(null, CultureInfo.InvariantCulture);
}
