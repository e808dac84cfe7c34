namespace Federated.Server.Parameters;

/// <summary>
/// FedKSeed hyper-parameters and the single home of their defaults: what the server hands out in every round's task
/// (<see cref="Federated.Server.Strategies.FedKSeedStrategyOptions"/> is built from it) and what the simulator's clients
/// use. The defaults suit any model (full-parameter ZO steps at the η measured best for the bundled model's full
/// parameter set, docs/fedkseed.md §9); a model folder's federation.json recommends better ones for that model.
/// </summary>
public sealed record FedKSeedSettings
{
    /// <summary>The defaults.</summary>
    public static FedKSeedSettings Default { get; } = new();

    /// <summary>K, candidate seeds (indices 0..K−1).</summary>
    public int SeedCount { get; init; } = 4096;

    /// <summary>τ, zeroth-order steps per client per round; an update carries 1..τ scalars.</summary>
    public int LocalSteps { get; init; } = 50;

    /// <summary>ε, perturbation scale of the two-point estimate (dimensionless).</summary>
    public float Epsilon { get; init; } = 5e-4f;

    /// <summary>η, the constant learning rate of each scalar·z step. 5e-6 ≈ η* for full-parameter steps on the bundled
    /// model (η* = ‖∇L‖² / (E‖∇ℓ‖²·tr H) ≈ 5.6e-6, docs/fedkseed.md §9); above 2η* a step raises the loss in expectation.</summary>
    public float LearningRate { get; init; } = 5e-6f;

    /// <summary>Examples per step (the client trainers take 1).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>FedKSeed-Pro: every task carries seed probabilities from the history of |g| (K floats more per task).</summary>
    public bool Pro { get; init; }

    /// <summary>Regex over parameter names selecting the trained tensors; null = all. Sent in every task, so the
    /// server's clients, its merged checkpoints and the simulator perturb the same tensors.</summary>
    public string? Trainable { get; init; }
}
