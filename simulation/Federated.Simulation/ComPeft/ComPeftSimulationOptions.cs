using Federated.Core;
using Federated.Server.Strategies;

namespace Federated.Simulation.ComPeft;

/// <summary>
/// A ComPEFT simulation: first-order LoRA rounds with ternary-compressed adapter updates. Defaults are a quick start
/// on 2 cores: 20 clients, 5 per round, 10 rounds, τ = 20 AdamW steps of batch 4, r = 8, α = 16 on q_proj and v_proj,
/// FFA-LoRA, density 5 %, weighted mean.
/// </summary>
public sealed record ComPeftSimulationOptions : SimulationOptions
{
    public ComPeftSimulationOptions()
    {
        Clients = 20;
        ClientsPerRound = 5;
        Rounds = 10;
    }

    /// <summary>τ, AdamW steps per client per round.</summary>
    public int LocalSteps { get; init; } = 20;

    /// <summary>B, examples per step.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>AdamW learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Global-norm gradient clipping (0 = off).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>LoRA rank r.</summary>
    public int LoraRank { get; init; } = 8;

    /// <summary>LoRA α (scaling α/r).</summary>
    public float LoraAlpha { get; init; } = 16f;

    /// <summary>Projections LoRA wraps (last path component, e.g. q_proj).</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = ["q_proj", "v_proj"];

    /// <summary>FFA-LoRA: A frozen from the shared seed, only B trained and sent (exact averaging). False = plain LoRA (FedIT).</summary>
    public bool FreezeA { get; init; } = true;

    /// <summary>Upload density d in (0, 1]; 1 = dense float32 uploads (plain FedAvg-LoRA).</summary>
    public double Density { get; init; } = 0.05;

    /// <summary>Dense float32 uploads whatever <see cref="Density"/> says.</summary>
    public bool Uncompressed { get; init; }

    /// <summary>ComPEFT α (scale = α·σ); null = per-density default.</summary>
    public double? ScaleFactor { get; init; }

    /// <summary>STC least-squares scale instead of α·σ.</summary>
    public bool LeastSquaresScale { get; init; }

    /// <summary>Per-client error-feedback residual (one adapter-sized float32 vector per client that has trained).</summary>
    public bool ErrorFeedback { get; init; }

    /// <summary>Server merge rule.</summary>
    public ComPeftAggregation Aggregation { get; init; } = ComPeftAggregation.Mean;

    /// <summary>TIES λ (server learning rate of the disjoint mean).</summary>
    public double TiesLambda { get; init; } = 1.0;

    /// <summary>Downlink re-compression density in [0, 1); 0 = dense merged Δ.</summary>
    public double DownlinkDensity { get; init; }

    /// <summary>The effective upload density (1 when uncompressed).</summary>
    public double UploadDensity => Uncompressed ? 1.0 : Density;

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
