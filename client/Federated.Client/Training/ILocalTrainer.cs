namespace Federated.Client.Training;

/// <summary>
/// The model-dependent half of an edge client, implemented by the integrator (FedKSeed zeroth-order steps or ComPEFT
/// LoRA training on the engine). <see cref="Edge.EdgeClient"/> owns the network, the state directory and retries;
/// the trainer owns the model. Calls come one at a time.
/// <list type="number">
/// <item><see cref="InitializeAsync"/> once: load the base model (and any local state) and say which global model
/// version it holds (0 = base model only; a trainer that keeps nothing on disk returns 0 and is re-synced from ΔH).</item>
/// <item><see cref="ApplyModelDeltaAsync"/> whenever the client is behind: bring the local model from
/// <see cref="GlobalModelDelta.FromVersion"/> to <see cref="GlobalModelDelta.ToVersion"/> (FedKSeed: for each seed s,
/// θ ← θ − η·ΔH[s]·z_s, docs/seed-protocol.md).</item>
/// <item><see cref="TrainAsync"/> once per assigned round, from the model at <see cref="TrainingTask.ModelVersion"/>.
/// When it returns, the local model must again be exactly at TrainingTask.ModelVersion (FedKSeed: undo the τ local
/// steps or train on a copy), because the next sync applies the global ΔH from that version. Deterministic training
/// (same task + shard ⇒ same payload) is recommended but not required: the client persists the result before pushing.</item>
/// </list>
/// </summary>
public interface ILocalTrainer
{
    /// <summary>Loads the model; returns the global model version the local model is at (0 = base model only).</summary>
    ValueTask<long> InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Applies a global model change; afterwards the local model is at <c>delta.ToVersion</c>.</summary>
    ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken);

    /// <summary>Runs one round of local training on <paramref name="shard"/> and returns the update to push.</summary>
    ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken);
}

/// <summary>The client's local training data: a JSONL file (one example per line; format in core/Federated.Data).</summary>
public sealed record DataShard(string Path);

/// <summary>One assigned round in domain terms (converted from the wire RoundTask).</summary>
/// <param name="RoundId">Round id (from 1).</param>
/// <param name="ModelVersion">Global version to train from.</param>
/// <param name="Deadline">Updates after it are refused as stale (server clock, UTC).</param>
/// <param name="FedKSeed">FedKSeed hyper-parameters when the federation runs FedKSeed, else null.</param>
/// <param name="ComPeft">ComPEFT hyper-parameters when the federation runs ComPEFT, else null.</param>
public sealed record TrainingTask(long RoundId, long ModelVersion, DateTimeOffset Deadline, FedKSeedTask? FedKSeed, ComPeftTask? ComPeft);

/// <summary>FedKSeed round settings (docs/protocol.md §FedKSeedParameters). The trainer draws τ seed indices in
/// 0..K−1 (uniformly, or from <see cref="SeedProbabilities"/> when non-empty) using <see cref="StepSeed"/>, and perturbs
/// the tensors whose names <see cref="Trainable"/> matches (null = every tensor). <see cref="MaxAbsScalar"/> is the
/// server's bound G on every scalar (0 = none sent).</summary>
public sealed record FedKSeedTask(int SeedCount, ulong SeedPoolMasterSeed, int LocalSteps, float Epsilon, float LearningRate,
    int BatchSize, IReadOnlyList<float> SeedProbabilities, ulong StepSeed, float MaxAbsScalar = 0, string? Trainable = null);

/// <summary>ComPEFT round settings (docs/protocol.md §ComPeftParameters). <see cref="StepSeed"/> seeds the client's
/// batch draws this round (the server's per-(client, round) seed, as FedKSeed's).</summary>
public sealed record ComPeftTask(int Rank, float Alpha, IReadOnlyList<string> TargetModules, float Density, float ScaleFactor,
    float LearningRate, int LocalSteps, int BatchSize, bool FreezeA, ulong LoraASeed, bool LeastSquaresScale, bool ErrorFeedback,
    ulong StepSeed);

/// <summary>What the server sent to move the local model forward.</summary>
public enum GlobalModelDeltaKind
{
    /// <summary>FedKSeed: <see cref="GlobalModelDelta.SeedIndices"/> (ascending, unique) and ΔH values.</summary>
    SeedDelta = 1,
    /// <summary>ComPEFT: a ternary codec payload of the adapter change in <see cref="GlobalModelDelta.Payload"/>.</summary>
    CompressedAdapter = 2,
}

/// <summary>A verified global model change (the client checked chunk offsets, total size and SHA-256).</summary>
public sealed record GlobalModelDelta(GlobalModelDeltaKind Kind, long FromVersion, long ToVersion, uint[] SeedIndices,
    float[] ScalarDeltas, byte[] Payload, IReadOnlyList<(string Name, ulong ElementCount)> Layout);

/// <summary>The result of one round of local training.</summary>
/// <param name="Payload">The update: <see cref="SeedScalarsPayload"/> (FedKSeed) or <see cref="CompressedPayload"/> (ComPEFT).</param>
/// <param name="SampleCount">Examples used this round (&gt; 0); the server's aggregation weight.</param>
/// <param name="Metrics">Finite values with snake_case keys, e.g. "train_loss" (≤ 64 entries).</param>
public sealed record LocalTrainingResult(LocalUpdatePayload Payload, ulong SampleCount, IReadOnlyDictionary<string, double> Metrics);

/// <summary>The update payload of a round.</summary>
public abstract record LocalUpdatePayload;

/// <summary>FedKSeed: one (seed index, projected gradient) pair per local step, in step order; each index &lt; K.
/// The scalar is (L(θ+εz) − L(θ−εz)) / (2ε).</summary>
public sealed record SeedScalarsPayload(uint[] SeedIndices, float[] Scalars) : LocalUpdatePayload;

/// <summary>ComPEFT: ternary codec bytes (TernaryCodec.Encode) of the flattened adapter change.</summary>
public sealed record CompressedPayload(byte[] TernaryPayload) : LocalUpdatePayload;
