using Federated.Core;
using Federated.Server.Parameters;

namespace Federated.Simulation.FedKSeed;

/// <summary>
/// A FedKSeed simulation. The method's defaults are <see cref="FedKSeedSettings"/>'s (one home for every verb); the
/// paper's settings are K = 4096, τ = 200, 200 clients, 10 per round, 40–60 rounds (`--rounds 40 --local-steps 200`).
/// </summary>
public sealed record FedKSeedSimulationOptions : SimulationOptions
{
    private static readonly FedKSeedSettings Defaults = FedKSeedSettings.Default;

    /// <summary>Options for <paramref name="federation"/> and <paramref name="method"/>; the rest at their defaults.</summary>
    public static FedKSeedSimulationOptions Create(string modelDirectory, FederationSettings federation, FedKSeedSettings method) => new()
    {
        ModelDirectory = modelDirectory, Clients = federation.Clients, ClientsPerRound = federation.ClientsPerRound,
        Rounds = federation.Rounds, Seed = federation.Seed, Seeds = method.SeedCount, LocalSteps = method.LocalSteps,
        Epsilon = method.Epsilon, LearningRate = method.LearningRate, Pro = method.Pro, Trainable = method.Trainable,
    };

    /// <summary>K, candidate seeds.</summary>
    public int Seeds { get; init; } = Defaults.SeedCount;

    /// <summary>τ, zeroth-order steps per client per round (batch 1).</summary>
    public int LocalSteps { get; init; } = Defaults.LocalSteps;

    /// <summary>ε, perturbation scale.</summary>
    public float Epsilon { get; init; } = Defaults.Epsilon;

    /// <summary>η, constant learning rate (<see cref="FedKSeedSettings.LearningRate"/>).</summary>
    public float LearningRate { get; init; } = Defaults.LearningRate;

    /// <summary>FedKSeed-Pro: seed probabilities from the history of |g|.</summary>
    public bool Pro { get; init; } = Defaults.Pro;

    /// <summary>Regex over parameter names selecting the trainable tensors; null = all.</summary>
    public string? Trainable { get; init; } = Defaults.Trainable;

    /// <summary>The method's settings of this run (what the server's tasks carry).</summary>
    public FedKSeedSettings Method => new()
    {
        SeedCount = Seeds, LocalSteps = LocalSteps, Epsilon = Epsilon, LearningRate = LearningRate, Pro = Pro, Trainable = Trainable,
    };

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
