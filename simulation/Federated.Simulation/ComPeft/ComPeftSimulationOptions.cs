using Federated.Server.Strategies;

namespace Federated.Simulation.ComPeft;

/// <summary>
/// A ComPEFT simulation: first-order LoRA rounds with ternary-compressed adapter updates. Defaults are a quick start
/// on 2 cores: 20 clients, 5 per round, 10 rounds, τ = 20 AdamW steps of batch 4, r = 8, α = 16 on q_proj and v_proj,
/// FFA-LoRA, density 5 %, weighted mean.
/// </summary>
public sealed record ComPeftSimulationOptions
{
    /// <summary>Hugging Face checkpoint folder of the base model (never modified: only the adapter trains).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>"builtin" (WordNet train split) or a JSONL file.</summary>
    public string Data { get; init; } = "builtin";

    /// <summary>"builtin:validation", "builtin:test" or a JSONL file.</summary>
    public string EvalData { get; init; } = "builtin:test";

    /// <summary>N, simulated clients.</summary>
    public int Clients { get; init; } = 20;

    /// <summary>M, clients per round.</summary>
    public int ClientsPerRound { get; init; } = 5;

    /// <summary>R, rounds.</summary>
    public int Rounds { get; init; } = 10;

    /// <summary>Seed of every random choice, and of the shared initial adapter (A).</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Partition scheme (docs/data.md).</summary>
    public string Partition { get; init; } = "dirichlet:0.5";

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

    /// <summary>Evaluate the loss every E rounds (and after the last).</summary>
    public int EvalEvery { get; init; } = 5;

    /// <summary>Examples scored for the evaluation loss.</summary>
    public int EvalExamples { get; init; } = 200;

    /// <summary>Examples generated per task kind for Rouge-L / accuracy (base and final model only).</summary>
    public int GenerationExamples { get; init; } = 48;

    /// <summary>Longest training sequence in tokens.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>
    /// Client ids by index (shard i ↔ ClientIds[i]); null = client-00000, client-00001, …. A client's id keys its batch
    /// stream (FederationCoordinator.ClientRoundSeed(Seed, round, id), what `federated serve --seed` sends as
    /// step_seed) and the aggregation order (ordinal by id). Giving the ids a server assigned reproduces that networked run.
    /// </summary>
    public IReadOnlyList<string>? ClientIds { get; init; }

    /// <summary>The effective upload density (1 when uncompressed).</summary>
    public double UploadDensity => Uncompressed ? 1.0 : Density;

    /// <summary>DP clip C; 0 = off (default). DP-SGD: each example's adapter gradient is clipped to L2 norm C (replaces --max-grad-norm).</summary>
    public double DpClipNorm { get; init; }

    /// <summary>DP noise multiplier σ: noise N(0, σ²C²) on the summed clipped gradient, then divided by B; 0 = clip only.</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>Secure-aggregation simulation: the server's view (the capture) is only the sample-weighted mean of each
    /// round's updates, never one client's update. Training is unchanged; it needs --aggregate mean (TIES needs each update).</summary>
    public bool SecureAggregation { get; init; }

    /// <summary>Folder for the capture of what the server receives (run.json, updates.jsonl, versions/); null = none.</summary>
    public string? CaptureDirectory { get; init; }

    /// <summary>Records planted in client 0's shard (appended to the training set, after its other examples): the
    /// membership-inference canaries. Null or empty = none.</summary>
    public IReadOnlyList<Federated.Data.InstructionExample>? Canaries { get; init; }

    /// <summary>Checks ranges; throws ArgumentOutOfRangeException naming the option.</summary>
    public void Validate()
    {
        if (ClientIds is not null && (ClientIds.Count != Clients || ClientIds.Distinct(StringComparer.Ordinal).Count() != Clients))
            throw new ArgumentException($"ClientIds must hold {Clients} distinct ids (one per client).", nameof(ClientIds));
        if (Clients < 1) throw new ArgumentOutOfRangeException(nameof(Clients), Clients, "--clients must be at least 1.");
        if (ClientsPerRound < 1 || ClientsPerRound > Clients)
            throw new ArgumentOutOfRangeException(nameof(ClientsPerRound), ClientsPerRound, $"--clients-per-round must be in [1, --clients = {Clients}].");
        if (Rounds < 1) throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "--rounds must be at least 1.");
        if (LocalSteps < 1) throw new ArgumentOutOfRangeException(nameof(LocalSteps), LocalSteps, "--local-steps must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "--batch-size must be at least 1.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "--lr must be finite and > 0.");
        if (!(MaxGradNorm >= 0) || !double.IsFinite(MaxGradNorm)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "--max-grad-norm must be finite and ≥ 0.");
        if (LoraRank < 1) throw new ArgumentOutOfRangeException(nameof(LoraRank), LoraRank, "--lora-rank must be at least 1.");
        if (!(LoraAlpha > 0) || !float.IsFinite(LoraAlpha)) throw new ArgumentOutOfRangeException(nameof(LoraAlpha), LoraAlpha, "--lora-alpha must be finite and > 0.");
        if (TargetModules.Count == 0) throw new ArgumentOutOfRangeException(nameof(TargetModules), "--lora-targets must name at least one projection.");
        if (!(Density > 0 && Density <= 1)) throw new ArgumentOutOfRangeException(nameof(Density), Density, "--density must be in (0, 1].");
        if (ScaleFactor is double a && (!(a > 0) || !double.IsFinite(a)))
            throw new ArgumentOutOfRangeException(nameof(ScaleFactor), a, "--scale-factor must be finite and > 0.");
        if (!(TiesLambda > 0) || !double.IsFinite(TiesLambda)) throw new ArgumentOutOfRangeException(nameof(TiesLambda), TiesLambda, "--ties-lambda must be finite and > 0.");
        if (!(DownlinkDensity >= 0 && DownlinkDensity < 1)) throw new ArgumentOutOfRangeException(nameof(DownlinkDensity), DownlinkDensity, "--downlink-density must be in [0, 1) (0 = dense).");
        if (EvalEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), EvalEvery, "--eval-every must be at least 1.");
        if (EvalExamples < 1) throw new ArgumentOutOfRangeException(nameof(EvalExamples), EvalExamples, "--eval-examples must be at least 1.");
        if (GenerationExamples < 0) throw new ArgumentOutOfRangeException(nameof(GenerationExamples), GenerationExamples, "--generation-examples must be ≥ 0.");
        if (MaxLength < 8) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "--max-length must be at least 8.");
        Federated.Client.Privacy.DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, "--dp-clip", "--dp-noise");
        if (SecureAggregation && Aggregation != ComPeftAggregation.Mean)
            throw new ArgumentException("--secure-aggregation needs --aggregate mean: a server behind secure aggregation sees only the sum, and TIES needs each update.", nameof(SecureAggregation));
    }
}
