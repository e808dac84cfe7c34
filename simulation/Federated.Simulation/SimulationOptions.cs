using Federated.Core;
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

    /// <summary>Seed of every random choice of the run (partition, the coordinator's selection and step seeds, the method's shared seeds).</summary>
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
    /// Client names by index (shard i ↔ ClientNames[i]); null = client-00000, client-00001, …. The simulated clients
    /// enroll under these names with the server's coordinator, which derives each client's id from its name
    /// (FederationCoordinator.ClientIdForName): the id ranks the client in selection, keys its step or batch stream
    /// (the coordinator's step_seed) and orders aggregation (ordinal by id). Giving the names of a networked run's
    /// clients (their client.json) reproduces that run: the same selection, steps and global models.
    /// </summary>
    public IReadOnlyList<string>? ClientNames { get; init; }

    /// <summary>The simulated server's store (SQLite) file, e.g. OUT/federation.db: rounds, selections, accepted
    /// updates and versions, as `federated serve` keeps them. Null (default) = the in-memory store (nothing kept after the run).</summary>
    public string? StatePath { get; init; }

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

    /// <summary>Client <paramref name="client"/>'s name: its <see cref="ClientNames"/> entry, else client-00000, ….</summary>
    public string ClientName(int client) => ClientNames is { } names ? names[client] : ClientPopulation.DefaultName(client);
    /// <summary>The shared settings of this run.</summary>
    public FederationSettings Federation => new() { Clients = Clients, ClientsPerRound = ClientsPerRound, Rounds = Rounds, Seed = Seed };


    /// <summary>Checks the shared ranges; throws ArgumentException / ArgumentOutOfRangeException naming the option.</summary>
    protected void ValidateShared()
    {
        if (ClientNames is not null && (ClientNames.Count != Clients || ClientNames.Distinct(StringComparer.Ordinal).Count() != Clients
                || ClientNames.Any(string.IsNullOrWhiteSpace)))
            throw new ArgumentException($"ClientNames must hold {Clients} distinct non-empty names (one per client).", nameof(ClientNames));
        TrainingLimits.Check(Clients, 1, TrainingLimits.MaxClients, "--clients");
        if (ClientsPerRound < 1 || ClientsPerRound > Clients)
            throw new ArgumentOutOfRangeException(nameof(ClientsPerRound), ClientsPerRound, $"--clients-per-round must be in [1, --clients = {Clients}].");
        TrainingLimits.Check(ClientsPerRound, 1, TrainingLimits.MaxClientsPerRound, "--clients-per-round");
        TrainingLimits.Check(Rounds, 1, TrainingLimits.MaxRounds, "--rounds");
        if (EvalEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvalEvery), EvalEvery, "--eval-every must be at least 1.");
        TrainingLimits.Check(EvalExamples, 1, TrainingLimits.MaxEvalExamples, "--eval-examples");
        TrainingLimits.Check(GenerationExamples, 0, TrainingLimits.MaxEvalExamples, "--generation-examples");
        if (MaxLength < 8) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "--max-length must be at least 8.");
        Federated.Client.Privacy.DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, "--dp-clip", "--dp-noise");
    }
}
