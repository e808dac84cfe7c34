using Federated.Core.Seeds;

namespace Federated.Core;

/// <summary>
/// Upper bounds of the sizes a run is given — local steps, seed count, rounds, clients, batch size, LoRA rank,
/// evaluation sizes — with the reason for each (docs/server.md §Limits). Values beyond them are refused up front: by
/// the options types' <c>Validate</c> (so the CLI exits 2 naming the option), by the server at start, and by an edge
/// client on a task (it declines the task) — instead of a run that allocates without end or sits at 0 % for days.
/// </summary>
public static class TrainingLimits
{
    /// <summary>τ, local steps per round: 100,000 FedKSeed steps are 200,000 forward passes (hours even on a tiny
    /// model) and a 0.8 MB update; published FedKSeed/ComPEFT runs use τ ≤ a few hundred.</summary>
    public const int MaxLocalSteps = 100_000;

    /// <summary>K, FedKSeed candidate seeds: seed indices travel as uint16 (<see cref="SeedPool.MaxCount"/> = 65,536).</summary>
    public const int MaxSeedCount = SeedPool.MaxCount;

    /// <summary>Rounds of a federation or simulation: every aggregated round is a model version kept in the history
    /// (federation.db, metrics.jsonl); 100,000 rounds at one a minute is ten weeks.</summary>
    public const int MaxRounds = 100_000;

    /// <summary>Simulated clients: each is a shard of the partition held in memory; 1,000,000 is beyond any
    /// cross-device study we reproduce.</summary>
    public const int MaxClients = 1_000_000;

    /// <summary>Clients selected per round: a round's selection is one stored row and every update of a round is held
    /// in memory until aggregation.</summary>
    public const int MaxClientsPerRound = 10_000;

    /// <summary>Examples per training step: activations grow linearly with it; 4,096 exceeds any shard we train on.</summary>
    public const int MaxBatchSize = 4_096;

    /// <summary>LoRA rank r: a rank beyond the hidden size adds parameters without adding rank; 1,024 is above the
    /// hidden size of every model the engine loads today.</summary>
    public const int MaxLoraRank = 1_024;

    /// <summary>Evaluation and generation examples: the built-in test split has 4,828 records; 1,000,000 bounds a user file.</summary>
    public const int MaxEvalExamples = 1_000_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> "NAME is VALUE; it must be in [MIN, MAX]." when
    /// <paramref name="value"/> is outside; <paramref name="name"/> is what the user typed (e.g. "--local-steps").</summary>
    public static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} is {value}; it must be in [{min:N0}, {max:N0}] (docs/server.md §Limits)."));
    }
}
