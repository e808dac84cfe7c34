using Federated.Data;
using Federated.Server.Parameters;

namespace Federated.Simulation;

/// <summary>
/// What every simulated federation has, whatever its method: the base model, the client and evaluation data, the
/// population and its partition, the evaluation schedule, the defences and the capture. Each method's options derive
/// from it. <see cref="Clients"/>, <see cref="ClientsPerRound"/>, <see cref="Rounds"/> and <see cref="Seed"/> default to
/// <see cref="FederationSettings"/>, the one home of the settings every verb shares.
/// </summary>
public abstract record SimulationOptions
{
    /// <summary>Hugging Face checkpoint folder of the base model (config.json, model.safetensors, tokenizer.json).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>"builtin" (the WordNet task's train split) or a JSONL file.</summary>
    public string Data { get; init; } = "builtin";

    /// <summary>Evaluation set: "builtin:validation", "builtin:test" or a JSONL file.</summary>
    public string EvalData { get; init; } = "builtin:test";

    /// <summary>N, simulated clients.</summary>
    public int Clients { get; init; } = FederationSettings.Default.Clients;

    /// <summary>M, clients selected per round.</summary>
    public int ClientsPerRound { get; init; } = FederationSettings.Default.ClientsPerRound;

    /// <summary>R, rounds.</summary>
    public int Rounds { get; init; } = FederationSettings.Default.Rounds;

    /// <summary>Seed of every random choice of the run (partition, selection, the method's shared seeds).</summary>
    public ulong Seed { get; init; } = FederationSettings.Default.Seed;

    /// <summary>Partition scheme (docs/data.md), e.g. "dirichlet:0.5", "iid".</summary>
    public string Partition { get; init; } = "dirichlet:0.5";

    /// <summary>Evaluate the loss every E rounds (and always after the last).</summary>
    public int EvalEvery { get; init; } = 5;

    /// <summary>Examples scored for the evaluation loss (500: enough records for the paired final − base loss difference
    /// of the quick start to stand out of its standard error).</summary>
    public int EvalExamples { get; init; } = 500;

    /// <summary>Examples generated per task kind for Rouge-L / accuracy (base and final model only).</summary>
    public int GenerationExamples { get; init; } = 48;

    /// <summary>Longest training sequence in tokens (prompt + response).</summary>
    public int MaxLength { get; init; } = Federated.Client.FedKSeed.FedKSeedLocalTrainer.DefaultMaxLength;

    /// <summary>
    /// Client ids by index (shard i ↔ ClientIds[i]); null = client-00000, client-00001, …. A client's id keys its step
    /// or batch stream (FederationCoordinator.ClientRoundSeed(Seed, round, id), what `federated serve --seed` sends as
    /// step_seed) and the aggregation order (ordinal by id). Giving the ids a server assigned reproduces that networked run.
    /// </summary>
    public IReadOnlyList<string>? ClientIds { get; init; }

    /// <summary>DP clip C; 0 = off (default). Its meaning is the method's (per-example gradient norm, or |g|).</summary>
    public double DpClipNorm { get; init; }

    /// <summary>DP noise multiplier σ: noise N(0, σ²C²); 0 = clip only.</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>Secure-aggregation simulation: the server's view (the capture) is only the sample-weighted aggregate of
    /// each round's updates, never one client's update. Training is unchanged.</summary>
    public bool SecureAggregation { get; init; }

    /// <summary>Folder for the capture of what the server receives (run.json, updates.jsonl, versions/); null = none.</summary>
    public string? CaptureDirectory { get; init; }

    /// <summary>Records planted in client 0's shard (appended to the training set, after its other examples): the
    /// membership-inference canaries. Null or empty = none.</summary>
    public IReadOnlyList<InstructionExample>? Canaries { get; init; }

    /// <summary>The shared settings of this run.</summary>
    public FederationSettings Federation => new() { Clients = Clients, ClientsPerRound = ClientsPerRound, Rounds = Rounds, Seed = Seed };

    /// <summary>Client <paramref name="client"/>'s id: its <see cref="ClientIds"/> entry, else client-00000, ….</summary>
    public string ClientId(int client) => ClientIds is { } ids ? ids[client] : ClientPopulation.DefaultId(client);

    /// <summary>Checks the shared ranges; throws ArgumentException / ArgumentOutOfRangeException naming the option.</summary>
    protected void ValidateShared()
    {
        if (ClientIds is not null && (ClientIds.Count != Clients || ClientIds.Distinct(StringComparer.Ordinal).Count() != Clients))
            throw new ArgumentException($"ClientIds must hold {Clients} distinct ids (one per client).", nameof(ClientIds));
        if (Clients < 1) throw new ArgumentOutOfRangeException(nameof(Clients), Clients, "--clients must be at least 1.");
        if (ClientsPerRound < 1 || ClientsPerRound > Clients)
            throw new ArgumentOutOfRangeException(nameof(ClientsPerRound), ClientsPerRound, $"--clients-per-round must be in [1, --clients = {Clients}].");
        if (Rounds < 1) throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "--rounds must be at least 1.");
        if (EvalEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), EvalEvery, "--eval-every must be at least 1.");
        if (EvalExamples < 1) throw new ArgumentOutOfRangeException(nameof(EvalExamples), EvalExamples, "--eval-examples must be at least 1.");
        if (GenerationExamples < 0) throw new ArgumentOutOfRangeException(nameof(GenerationExamples), GenerationExamples, "--generation-examples must be ≥ 0.");
        if (MaxLength < 8) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "--max-length must be at least 8.");
        Federated.Client.Privacy.DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, "--dp-clip", "--dp-noise");
    }
}
