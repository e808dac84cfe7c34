using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Federated.Privacy.Capture;

/// <summary>
/// The capture of what a server receives (docs/privacy-defences.md §capture), written by `federated simulate --capture`
/// into OUT/captures/:
/// <code>
/// run.json        CaptureManifest: method, model, data, every hyper-parameter needed to decode and replay
/// updates.jsonl   one CapturedUpdate per accepted update (or per round under secure aggregation)
/// updates/*.bin   each payload, the exact bytes the server strategy validated
/// versions.jsonl  one CapturedVersion per model version; versions/*.bin its payload
/// canaries.jsonl  (optional) records planted in the canary client's shard (the MIA's members)
/// </code>
/// </summary>
public static class CaptureFormat
{
    /// <summary>Version of this layout; run.json's format_version.</summary>
    public const int Version = 1;

    public const string ManifestFile = "run.json";
    public const string UpdatesFile = "updates.jsonl";
    public const string VersionsFile = "versions.jsonl";
    public const string UpdatesFolder = "updates";
    public const string VersionsFolder = "versions";
    public const string CanariesFile = "canaries.jsonl";

    /// <summary>The client id of the one update line per round under secure aggregation.</summary>
    public const string AggregateClientId = "secure-aggregate";

    /// <summary>Payload kinds (CapturedUpdate.PayloadKind, CapturedVersion.PayloadKind).</summary>
    public const string TernaryKind = "ternary";       // ComPEFT TRNY payload (docs/compeft.md §2)
    public const string DenseKind = "dense";           // F32U dense float32 (docs/compeft.md §6.3)
    public const string SeedScalarsKind = "seed_scalars"; // protobuf SeedScalars: (seed index, scalar) pairs

    /// <summary>snake_case JSON, nulls omitted, as the CLI's --json.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

/// <summary>run.json: the run's settings. Method-specific fields are null for the other method.</summary>
public sealed record CaptureManifest
{
    public int FormatVersion { get; init; } = CaptureFormat.Version;

    /// <summary>"compeft" or "fedkseed".</summary>
    public required string Method { get; init; }

    /// <summary>Base model folder (absolute path when written by the simulator).</summary>
    public required string ModelDir { get; init; }

    public required string Data { get; init; }

    /// <summary>Evaluation data of the run ("builtin:test" or a file): never trained on, the MIA's default non-members.</summary>
    public string? EvalData { get; init; }
    public required string Partition { get; init; }
    public int Clients { get; init; }
    public int ClientsPerRound { get; init; }
    public int Rounds { get; init; }

    /// <summary>Run seed: every random choice; FedKSeed's seed-pool master seed; ComPEFT's LoRA A seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>Longest training sequence in tokens.</summary>
    public int MaxLength { get; init; }

    /// <summary>τ, local steps per client per round.</summary>
    public int LocalSteps { get; init; }

    /// <summary>B (ComPEFT AdamW batch; FedKSeed: 1).</summary>
    public int BatchSize { get; init; }

    /// <summary>η (FedKSeed) or the AdamW learning rate (ComPEFT).</summary>
    public float LearningRate { get; init; }

    // FedKSeed
    public int? SeedCount { get; init; }
    public ulong? SeedPoolMasterSeed { get; init; }
    public float? Epsilon { get; init; }
    public string? Trainable { get; init; }

    // ComPEFT
    public int? LoraRank { get; init; }
    public float? LoraAlpha { get; init; }
    public IReadOnlyList<string>? LoraTargets { get; init; }
    public ulong? LoraASeed { get; init; }
    public bool? FreezeA { get; init; }
    public double? Density { get; init; }
    public bool? Uncompressed { get; init; }
    public double? ScaleFactor { get; init; }
    public bool? LeastSquaresScale { get; init; }
    public bool? ErrorFeedback { get; init; }
    public string? Aggregation { get; init; }
    public double? MaxGradNorm { get; init; }

    // Defences
    /// <summary>DP clip C (0 = off): per-example L2 clip (ComPEFT) or scalar clip to [−C, C] (FedKSeed).</summary>
    public double DpClipNorm { get; init; }

    /// <summary>DP noise multiplier σ (noise std σ·C).</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>The server saw only the sample-weighted mean of each round's updates.</summary>
    public bool SecureAggregation { get; init; }

    /// <summary>Canaries file (relative to the capture folder) planted in <see cref="CanaryClient"/>'s shard, or null.</summary>
    public string? Canaries { get; init; }

    /// <summary>Client index whose shard holds the canaries (0).</summary>
    public int? CanaryClient { get; init; }

    /// <summary>Training examples before the canaries: global index i ≥ this is canary i − TrainCount.</summary>
    public int TrainCount { get; init; }
}

/// <summary>One line of updates.jsonl: what the server accepted from one client in one round.</summary>
/// <param name="Round">Round number (1-based).</param>
/// <param name="ClientId">The client's id, or <see cref="CaptureFormat.AggregateClientId"/> under secure aggregation.</param>
/// <param name="BaseVersion">Model version the update was trained from.</param>
/// <param name="SampleCount">The client's declared data size (the aggregation weight); the sum under secure aggregation.</param>
/// <param name="Payload">File name of the payload, relative to the capture folder.</param>
/// <param name="PayloadKind">ternary, dense or seed_scalars.</param>
/// <param name="LocalSteps">Local steps the client ran.</param>
/// <param name="SamplingRate">q per step (B / shard size), for the accountant.</param>
/// <param name="ClientSecretExampleIndices">GROUND TRUTH, NOT SEEN BY THE SERVER: global indices (into the training
/// set, canaries after <see cref="CaptureManifest.TrainCount"/>) of the examples the client trained on, in step order.
/// Only for scoring probes.</param>
/// <param name="AggregatedClients">Under secure aggregation, the ids whose updates were summed; else null.</param>
public sealed record CapturedUpdate(long Round, string ClientId, long BaseVersion, ulong SampleCount, string Payload, string PayloadKind,
    int LocalSteps, double SamplingRate, int[] ClientSecretExampleIndices, IReadOnlyList<string>? AggregatedClients = null);

/// <summary>One line of versions.jsonl: the server's model version <paramref name="Version"/> made in <paramref name="Round"/>.
/// The payload is the change from version − 1: ComPEFT the merged Δ (dense or ternary), FedKSeed ΔH as seed_scalars.</summary>
public sealed record CapturedVersion(long Version, long Round, string Payload, string PayloadKind);
