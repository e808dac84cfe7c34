using Federated.Core;

namespace Federated.Simulation.FedKSeed;

/// <summary>
/// A FedKSeed simulation. Defaults make the bare `federated simulate` a quick start that finishes in a few minutes
/// on 2 cores with the built-in base model (5 rounds × 10 clients × τ = 50 steps); the paper's settings are K = 4096,
/// τ = 200, 200 clients, 10 per round, 40–60 rounds (`--rounds 40 --local-steps 200`).
/// </summary>
public sealed record FedKSeedSimulationOptions : SimulationOptions
{
    public FedKSeedSimulationOptions()
    {
        Clients = 200;
        ClientsPerRound = 10;
        Rounds = 5;
    }

    /// <summary>K, candidate seeds.</summary>
    public int Seeds { get; init; } = 4096;

    /// <summary>τ, zeroth-order steps per client per round (batch 1).</summary>
    public int LocalSteps { get; init; } = 50;

    /// <summary>ε, perturbation scale.</summary>
    public float Epsilon { get; init; } = 5e-4f;

    /// <summary>
    /// η, constant learning rate. The default is the measured best η for full-parameter steps on the bundled model
    /// (η* = ‖∇L‖² / (E‖∇ℓ‖²·tr H) ≈ 5.6e-6, docs/fedkseed.md §9); above 2η* a step raises the loss in expectation.
    /// </summary>
    public float LearningRate { get; init; } = 5e-6f;

    /// <summary>FedKSeed-Pro: seed probabilities from the history of |g|.</summary>
    public bool Pro { get; init; }

    /// <summary>Regex over parameter names selecting the trainable tensors; null = all.</summary>
    public string? Trainable { get; init; }

    /// <summary>Checks ranges; throws ArgumentOutOfRangeException naming the option.</summary>
    public void Validate()
    {
        ValidateShared();
        TrainingLimits.Check(Seeds, 1, TrainingLimits.MaxSeedCount, "--seeds");
        TrainingLimits.Check(LocalSteps, 1, TrainingLimits.MaxLocalSteps, "--local-steps");
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "--epsilon must be finite and > 0.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "--lr must be finite and > 0.");
    }
}
