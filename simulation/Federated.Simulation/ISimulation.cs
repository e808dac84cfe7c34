namespace Federated.Simulation;

/// <summary>What every simulation shares with the runner that writes metrics.jsonl, summary.json and the loss plot.</summary>
/// <param name="Method">"fedkseed" or "compeft" (summary.json's method).</param>
/// <param name="Title">One line describing the run's settings (console headline and plot title).</param>
/// <param name="Clients">N, simulated clients.</param>
/// <param name="ClientsPerRound">M, clients per round.</param>
/// <param name="Rounds">R.</param>
/// <param name="Partition">Partition scheme.</param>
/// <param name="GenerationExamples">Examples generated per task for the base and final model (0 = loss only).</param>
public sealed record SimulationShape(string Method, string Title, int Clients, int ClientsPerRound, int Rounds, string Partition, int GenerationExamples);

/// <summary>
/// A federated simulation driven round by round: <see cref="Evaluate"/> the global model, <see cref="RunRound"/> 1, 2, …
/// R in order, then <see cref="SaveArtifacts"/>. Both methods (FedKSeed, ComPEFT) implement it, so one runner
/// (`federated simulate`) writes the same outputs for both.
/// </summary>
public interface ISimulation
{
    /// <summary>The run's method, size and settings.</summary>
    SimulationShape Shape { get; }

    /// <summary>Parameters the run trains (elements).</summary>
    long TrainableElements { get; }

    /// <summary>Size of one client update sent uncompressed as float32 (4 bytes per trained element that a client
    /// would send), or null when the method has no such notion (FedKSeed sends scalars).</summary>
    long? Fp32UpdateBytes { get; }

    /// <summary>Evaluates the current global model (loss; Rouge-L and accuracy when <paramref name="generate"/>).</summary>
    ModelQuality Evaluate(bool generate, Action<int, int>? progress = null);

    /// <summary>Runs round <paramref name="round"/> (rounds must be run in order 1, 2, …).</summary>
    RoundMetrics RunRound(long round, Action<int, int>? clientProgress = null);

    /// <summary>Writes the method's final artefacts into <paramref name="outDir"/> (FedKSeed: the global model as a Hugging Face folder in model/; ComPEFT: the global adapter in adapter/);
    /// returns the paths written (relative to nothing: as given), possibly none.</summary>
    IReadOnlyList<string> SaveArtifacts(string outDir);
}
