namespace Federated.Simulation.FedKSeed;

/// <summary>
/// A FedKSeed simulation. Defaults make the bare `federated simulate` a quick start that finishes in a few minutes
/// on 2 cores with the built-in base model (5 rounds × 10 clients × τ = 50 steps); the paper's settings are K = 4096,
/// τ = 200, 200 clients, 10 per round, 40–60 rounds (`--rounds 40 --local-steps 200`).
/// </summary>
public sealed record FedKSeedSimulationOptions
{
    /// <summary>Hugging Face checkpoint folder of the base model (config.json, model.safetensors, tokenizer.json).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>"builtin" (the WordNet task; train split for clients, validation for eval) or a JSONL file.</summary>
    public string Data { get; init; } = "builtin";

    /// <summary>Evaluation set: "builtin:validation", "builtin:test" or a JSONL file.</summary>
    public string EvalData { get; init; } = "builtin:test";

    /// <summary>Number of simulated clients N.</summary>
    public int Clients { get; init; } = 200;

    /// <summary>Clients selected per round M.</summary>
    public int ClientsPerRound { get; init; } = 10;

    /// <summary>Rounds R.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>K, candidate seeds.</summary>
    public int Seeds { get; init; } = 4096;

    /// <summary>Master seed of the seed pool and of every random choice of the run.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>τ, zeroth-order steps per client per round (batch 1).</summary>
    public int LocalSteps { get; init; } = 50;

    /// <summary>ε, perturbation scale.</summary>
    public float Epsilon { get; init; } = 5e-4f;

    /// <summary>η, constant learning rate.</summary>
    public float LearningRate { get; init; } = 3e-5f;

    /// <summary>Partition scheme (docs/data.md), e.g. "dirichlet:0.5", "iid".</summary>
    public string Partition { get; init; } = "dirichlet:0.5";

    /// <summary>FedKSeed-Pro: seed probabilities from the history of |g|.</summary>
    public bool Pro { get; init; }

    /// <summary>Regex over parameter names selecting the trainable tensors; null = all.</summary>
    public string? Trainable { get; init; }

    /// <summary>Evaluate the loss every E rounds (and always after the last).</summary>
    public int EvalEvery { get; init; } = 5;

    /// <summary>Examples scored for the evaluation loss.</summary>
    public int EvalExamples { get; init; } = 200;

    /// <summary>Examples generated per task kind for Rouge-L / accuracy (base and final model only).</summary>
    public int GenerationExamples { get; init; } = 48;

    /// <summary>Longest training sequence in tokens (prompt + response).</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>
    /// Client ids by index (shard i ↔ ClientIds[i]); null = client-00000, client-00001, …. A client's id keys its step
    /// seed (FederationCoordinator.ClientRoundSeed(Seed, round, id), what `federated serve --seed` sends as step_seed)
    /// and the aggregation order (ordinal by id). Giving the ids a server assigned reproduces that networked run.
    /// </summary>
    public IReadOnlyList<string>? ClientIds { get; init; }

    /// <summary>DP clip C; 0 = off (default). DPZero: each projected gradient g is clipped to [−C, C].</summary>
    public double DpClipNorm { get; init; }

    /// <summary>DP noise multiplier σ: noise N(0, σ²C²) added to each clipped g; 0 = clip only.</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>Secure-aggregation simulation: the server's view (the capture) is only the sample-weighted mean of each
    /// round's updates, never one client's update. Training is unchanged.</summary>
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
        if (Seeds < 1 || Seeds > 65536) throw new ArgumentOutOfRangeException(nameof(Seeds), Seeds, "--seeds (K) must be in [1, 65536].");
        if (LocalSteps < 1) throw new ArgumentOutOfRangeException(nameof(LocalSteps), LocalSteps, "--local-steps must be at least 1.");
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "--epsilon must be finite and > 0.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "--lr must be finite and > 0.");
        if (EvalEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), EvalEvery, "--eval-every must be at least 1.");
        if (EvalExamples < 1) throw new ArgumentOutOfRangeException(nameof(EvalExamples), EvalExamples, "--eval-examples must be at least 1.");
        if (GenerationExamples < 0) throw new ArgumentOutOfRangeException(nameof(GenerationExamples), GenerationExamples, "--generation-examples must be ≥ 0.");
        if (MaxLength < 8) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "--max-length must be at least 8.");
        Federated.Client.Privacy.DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, "--dp-clip", "--dp-noise");
    }
}
