using Federated.Server.Strategies;

namespace Federated.Server.Parameters;

/// <summary>
/// ComPEFT hyper-parameters (client LoRA training, upload compression, server merge) and the single home of their
/// defaults: what the server hands out in every round's task (<see cref="ComPeftStrategyOptions"/> is built from it)
/// and what the simulator uses. The merge defaults to TIES, the best rule measured (README's ComPEFT table); the LoRA
/// targets default to q_proj and v_proj, names every LLaMA-style model has; a model folder's federation.json may
/// recommend more (the bundled model's wraps every projection).
/// </summary>
public sealed record ComPeftSettings
{
    /// <summary>The defaults.</summary>
    public static ComPeftSettings Default { get; } = new();

    /// <summary>LoRA rank r.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>LoRA α (scaling α/r).</summary>
    public float Alpha { get; init; } = 16f;

    /// <summary>Projections LoRA wraps (last path component, e.g. q_proj).</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = ["q_proj", "v_proj"];

    /// <summary>FFA-LoRA: A frozen from the run seed, only B trained and sent (exact averaging). False = plain LoRA.</summary>
    public bool FreezeA { get; init; } = true;

    /// <summary>Upload density d in (0, 1]; 1 = dense float32 uploads (plain FedAvg-LoRA).</summary>
    public double Density { get; init; } = 0.05;

    /// <summary>Dense float32 uploads whatever <see cref="Density"/> says.</summary>
    public bool Uncompressed { get; init; }

    /// <summary>ComPEFT α (scale = α·σ); null = per-density default.</summary>
    public double? ScaleFactor { get; init; }

    /// <summary>STC least-squares scale ‖Δ_kept‖₁/k instead of α·σ.</summary>
    public bool LeastSquaresScale { get; init; }

    /// <summary>Clients keep a residual of what compression dropped.</summary>
    public bool ErrorFeedback { get; init; }

    /// <summary>Server merge rule.</summary>
    public ComPeftAggregation Aggregation { get; init; } = ComPeftAggregation.Ties;

    /// <summary>TIES λ (server step on the disjoint mean).</summary>
    public double TiesLambda { get; init; } = 1.0;

    /// <summary>Downlink re-compression density in [0, 1); 0 = dense merged Δ.</summary>
    public double DownlinkDensity { get; init; }

    /// <summary>τ, AdamW steps per client per round.</summary>
    public int LocalSteps { get; init; } = 20;

    /// <summary>B, examples per step.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Client AdamW learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>The effective upload density (1 when uncompressed).</summary>
    public double UploadDensity => Uncompressed ? 1.0 : Density;
}
