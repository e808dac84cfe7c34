using Federated.Core;
using Federated.Server.Parameters;
using Federated.Server.Strategies;

namespace Federated.Simulation.ComPeft;

/// <summary>
/// A ComPEFT simulation: first-order LoRA rounds with ternary-compressed adapter updates. The method's defaults are
/// <see cref="ComPeftSettings"/>'s (one home for every verb).
/// </summary>
public sealed record ComPeftSimulationOptions : SimulationOptions
{
    private static readonly ComPeftSettings Defaults = ComPeftSettings.Default;

    /// <summary>Options for <paramref name="federation"/> and <paramref name="method"/>; the rest at their defaults.</summary>
    public static ComPeftSimulationOptions Create(string modelDirectory, FederationSettings federation, ComPeftSettings method) => new()
    {
        ModelDirectory = modelDirectory, Clients = federation.Clients, ClientsPerRound = federation.ClientsPerRound,
        Rounds = federation.Rounds, Seed = federation.Seed, LocalSteps = method.LocalSteps, BatchSize = method.BatchSize,
        LearningRate = method.LearningRate, LoraRank = method.Rank, LoraAlpha = method.Alpha, TargetModules = method.TargetModules,
        FreezeA = method.FreezeA, Density = method.Density, Uncompressed = method.Uncompressed, ScaleFactor = method.ScaleFactor,
        LeastSquaresScale = method.LeastSquaresScale, ErrorFeedback = method.ErrorFeedback, Aggregation = method.Aggregation,
        TiesLambda = method.TiesLambda, DownlinkDensity = method.DownlinkDensity,
    };

    /// <summary>The method's settings of this run (what the server's tasks carry).</summary>
    public ComPeftSettings Method => new()
    {
        Rank = LoraRank, Alpha = LoraAlpha, TargetModules = TargetModules, FreezeA = FreezeA, Density = Density,
        Uncompressed = Uncompressed, ScaleFactor = ScaleFactor, LeastSquaresScale = LeastSquaresScale, ErrorFeedback = ErrorFeedback,
        Aggregation = Aggregation, TiesLambda = TiesLambda, DownlinkDensity = DownlinkDensity, LocalSteps = LocalSteps,
        BatchSize = BatchSize, LearningRate = LearningRate,
    };

    /// <summary>τ, AdamW steps per client per round.</summary>
    public int LocalSteps { get; init; } = Defaults.LocalSteps;

    /// <summary>B, examples per step.</summary>
    public int BatchSize { get; init; } = Defaults.BatchSize;

    /// <summary>AdamW learning rate.</summary>
    public float LearningRate { get; init; } = Defaults.LearningRate;

    /// <summary>Global-norm gradient clipping (0 = off).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>LoRA rank r.</summary>
    public int LoraRank { get; init; } = Defaults.Rank;

    /// <summary>LoRA α (scaling α/r).</summary>
    public float LoraAlpha { get; init; } = Defaults.Alpha;

    /// <summary>Projections LoRA wraps (last path component, e.g. q_proj).</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = Defaults.TargetModules;

    /// <summary>FFA-LoRA: A frozen from the shared seed, only B trained and sent (exact averaging). False = plain LoRA (FedIT).</summary>
    public bool FreezeA { get; init; } = Defaults.FreezeA;

    /// <summary>Upload density d in (0, 1]; 1 = dense float32 uploads (plain FedAvg-LoRA).</summary>
    public double Density { get; init; } = Defaults.Density;

    /// <summary>Dense float32 uploads whatever <see cref="Density"/> says.</summary>
    public bool Uncompressed { get; init; } = Defaults.Uncompressed;

    /// <summary>ComPEFT α (scale = α·σ); null = per-density default.</summary>
    public double? ScaleFactor { get; init; } = Defaults.ScaleFactor;

    /// <summary>STC least-squares scale instead of α·σ.</summary>
    public bool LeastSquaresScale { get; init; } = Defaults.LeastSquaresScale;

    /// <summary>Per-client error-feedback residual (one adapter-sized float32 vector per client that has trained).</summary>
    public bool ErrorFeedback { get; init; } = Defaults.ErrorFeedback;

    /// <summary>Server merge rule.</summary>
    public ComPeftAggregation Aggregation { get; init; } = Defaults.Aggregation;

    /// <summary>TIES λ (server learning rate of the disjoint mean).</summary>
    public double TiesLambda { get; init; } = Defaults.TiesLambda;

    /// <summary>Downlink re-compression density in [0, 1); 0 = dense merged Δ.</summary>
    public double DownlinkDensity { get; init; } = Defaults.DownlinkDensity;

    /// <summary>The effective upload density (1 when uncompressed).</summary>
    public double UploadDensity => Method.UploadDensity;

    /// <summary>Checks ranges; throws ArgumentOutOfRangeException naming the option.</summary>
    public void Validate()
    {
        ValidateShared();
        TrainingLimits.Check(LocalSteps, 1, TrainingLimits.MaxLocalSteps, "--local-steps");
        TrainingLimits.Check(BatchSize, 1, TrainingLimits.MaxBatchSize, "--batch-size");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "--lr must be finite and > 0.");
        if (!(MaxGradNorm >= 0) || !double.IsFinite(MaxGradNorm)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "--max-grad-norm must be finite and ≥ 0.");
        TrainingLimits.Check(LoraRank, 1, TrainingLimits.MaxLoraRank, "--lora-rank");
        if (!(LoraAlpha > 0) || !float.IsFinite(LoraAlpha)) throw new ArgumentOutOfRangeException(nameof(LoraAlpha), LoraAlpha, "--lora-alpha must be finite and > 0.");
        if (TargetModules.Count == 0) throw new ArgumentOutOfRangeException(nameof(TargetModules), "--lora-targets must name at least one projection.");
        if (!(Density > 0 && Density <= 1)) throw new ArgumentOutOfRangeException(nameof(Density), Density, "--density must be in (0, 1].");
        if (ScaleFactor is double a && (!(a > 0) || !double.IsFinite(a)))
            throw new ArgumentOutOfRangeException(nameof(ScaleFactor), a, "--scale-factor must be finite and > 0.");
        if (!(TiesLambda > 0) || !double.IsFinite(TiesLambda)) throw new ArgumentOutOfRangeException(nameof(TiesLambda), TiesLambda, "--ties-lambda must be finite and > 0.");
        if (!(DownlinkDensity >= 0 && DownlinkDensity < 1)) throw new ArgumentOutOfRangeException(nameof(DownlinkDensity), DownlinkDensity, "--downlink-density must be in [0, 1) (0 = dense).");
        if (SecureAggregation && Aggregation != ComPeftAggregation.Mean)
            throw new ArgumentException("--secure-aggregation needs --aggregate mean: a server behind secure aggregation sees only the sum, and TIES needs each update.", nameof(SecureAggregation));
    }
}
