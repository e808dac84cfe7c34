using Federated.Client.Training;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.Tokenization;
using Federated.Core.ZerothOrder;
using Federated.Data;
using Federated.Data.Training;

namespace Federated.Client.FedKSeed;

/// <summary>
/// <see cref="ILocalTrainer"/> for FedKSeed on the engine: the same per-round work as the simulator
/// (<c>FedKSeedSimulation.RunRound</c>), driven by the server's tasks instead of a loop.
/// <list type="bullet">
/// <item>State: one working <see cref="CausalLm"/> + the weights at the held global version in a <see cref="HeldWeights"/>
/// scratch file under the scratch directory (e.g. `join`'s STATE/scratch; OS page cache, not process memory: the
/// process holds one model, like the simulator). With a state directory, the held weights and their version are also
/// saved after every sync (<see cref="SavedGlobalWeights"/>) and a restart resumes from those exact bits; without one, a
/// restart holds version 0 and the edge client replays ΔH since 0 in one step, which gives the same model only up to
/// float32 rounding.</item>
/// <item>Sync: θ ← θ − η·ΔH[s]·z(s) per seed, ascending index (<see cref="FedKSeedSync"/>), applied to the
/// held copy. η, K and the pool's master seed come from a task. <see cref="Edge.EdgeClient"/> always asks for a task
/// before it syncs for training, so they are known then; a delta that arrives before any task (a client whose first
/// answer is FINISHED) is queued and replayed, in arrival order, when the parameters are first known. Using a
/// default η instead would silently build a different model.</item>
/// <item>Train: <see cref="FedKSeedTrainer.Train"/> with client stream seed = the task's <c>step_seed</c> (the server's
/// per-(client, round) seed, <c>FederationCoordinator.ClientRoundSeed</c>); the simulator uses the same rule, so a
/// networked run and a simulation with the same seed, clients and ids draw the same steps. Afterwards the weights are
/// restored from the copy (the contract: the model is back at task.ModelVersion).</item>
/// </list>
/// </summary>
public sealed class FedKSeedLocalTrainer : IResumableTrainer, IDisposable
{
    /// <summary>Default maximum tokens per example (the simulator's default).</summary>
    public const int DefaultMaxLength = 128;

    private readonly string _modelDirectory;
    private readonly int _maxLength;
    private readonly string? _trainablePattern;
    private readonly FedKSeedTrainerOptions _trainerOptions;
    private readonly string _scratchDirectory;
    private readonly string? _stateDirectory;
    private SavedGlobalWeights? _saved;
    private readonly PendingModelDeltas _deltas = new(GlobalModelDeltaKind.SeedDelta, "FedKSeed");
    private CausalLm? _model;
    private TrainableSet? _trainable;
    private string? _trainableInUse;
    private HeldWeights? _global;
    private ExampleEncoder? _encoder;
    private string? _shardPath;
    private TokenizedExample[] _examples = [];
    private RoundSettings? _settings;

    /// <param name="modelDirectory">Base model directory (config.json, *.safetensors, tokenizer.json).</param>
    /// <param name="maxLength">Maximum tokens per example (capped by the model's context).</param>
    /// <param name="trainablePattern">Regex over parameter names of the trained tensors until a task names them (a task's
    /// trainable regex wins); null = all.</param>
    /// <param name="trainerOptions">Client-side options of the local steps (DPZero clip and noise); null = none.</param>
    /// <param name="scratchDirectory">Where the held-weights scratch file goes (stale ones there are deleted); null = the temp directory.</param>
    /// <param name="stateDirectory">Where the exact held weights are saved after every sync and resumed from at start
    /// (the edge client's <c>STATE/model</c>); null = nothing saved, every start holds version 0.</param>
    public FedKSeedLocalTrainer(string modelDirectory, int maxLength = DefaultMaxLength, string? trainablePattern = null,
        FedKSeedTrainerOptions? trainerOptions = null, string? scratchDirectory = null, string? stateDirectory = null)
    {
        _scratchDirectory = scratchDirectory ?? Path.GetTempPath();
        _trainerOptions = trainerOptions ?? new FedKSeedTrainerOptions();
        _trainerOptions.Validate();
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 2 tokens.");
        _modelDirectory = modelDirectory;
        _maxLength = maxLength;
        _trainablePattern = trainablePattern;
        _stateDirectory = stateDirectory;
    }

    /// <inheritdoc />
    public bool HasSavedModel => _stateDirectory is not null && SavedGlobalWeights.Exists(_stateDirectory);

    /// <summary>The global version the held weights are at (queued deltas included).</summary>
    public long ModelVersion => _deltas.Version;

    /// <summary>A copy of the held global weights (after queued deltas, when their parameters are known).</summary>
    public float[] ReadGlobalWeights()
    {
        EnsureInitialized();
        var copy = new float[_global!.Length];
        _global.CopyTo(copy);
        return copy;
    }

    /// <inheritdoc />
    public ValueTask<long> InitializeAsync(CancellationToken cancellationToken)
    {
        _model = CausalLm.Load(_modelDirectory);
        _model.KeepActivationsForBackward = false; // zeroth-order: inference memory only
        _encoder = new ExampleEncoder(HfTokenizer.Load(_modelDirectory), Math.Min(_maxLength, _model.Config.MaxPositions));
        _trainable = TrainableSet.Create(_model.Parameters, _trainablePattern);
        _trainableInUse = _trainablePattern;
        _global?.Dispose();
        _global = new HeldWeights(_model.Weights, _scratchDirectory);
        long version = 0;
        if (_stateDirectory is not null)
        {
            _saved = new SavedGlobalWeights(_stateDirectory, SavedGlobalWeights.Lineage(_model.Weights, _trainablePattern));
            if (_saved.TryRead(_model.Weights) is { } saved)
            {
                version = saved;
                _global.Store(_model.Weights);
            }
            else RestoreGlobal();   // no usable file: back to the base weights
        }
        _deltas.Reset(version);
        return ValueTask.FromResult(version);
    }

    /// <inheritdoc />
    public ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delta);
        EnsureInitialized();
        if (delta.SeedIndices.Length != delta.ScalarDeltas.Length)
            throw new InvalidDataException($"The model change has {delta.SeedIndices.Length} seed indices but {delta.ScalarDeltas.Length} values.");
        CheckDelta(delta, _settings);
        _deltas.Enqueue(delta);
        if (_settings is not null) ReplayQueued(_settings);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(shard);
        EnsureInitialized();
        var f = task.FedKSeed ?? throw new ArgumentException($"Round {task.RoundId} carries no FedKSeed parameters; this trainer runs FedKSeed only.", nameof(task));
        _deltas.EnsureTrainsFrom(task);
        if (f.BatchSize != 1) throw new ArgumentException($"FedKSeed batch size {f.BatchSize} is not supported; the trainer takes one example per step.", nameof(task));
        var settings = SettingsFor(f);
        UseTrainable(f.Trainable ?? _trainablePattern);
        ReplayQueued(settings);
        var examples = LoadShard(shard.Path);

        var trainer = new FedKSeedTrainer(_model!, _trainable!, settings.SeedPool, _trainerOptions);
        var plan = new FedKSeedRoundPlan(task.RoundId, f.LocalSteps, f.Epsilon, f.LearningRate, [.. f.SeedProbabilities.Select(p => (double)p)],
            f.MaxAbsScalar);
        FedKSeedLocalResult local;
        try
        {
            local = trainer.Train(plan, examples, f.StepSeed);
        }
        finally
        {
            RestoreGlobal();   // the contract: back at task.ModelVersion, whatever happened
        }
        if (local.Steps.Length == 0)
            throw new InvalidDataException($"Round {task.RoundId}: all {local.DroppedSteps} local steps had a non-finite loss or a scalar beyond " +
                $"the round's bound G = {f.MaxAbsScalar:G6}; nothing to push.");

        var indices = new uint[local.Steps.Length];
        var scalars = new float[local.Steps.Length];
        for (int t = 0; t < indices.Length; t++)
        {
            indices[t] = (uint)local.Steps[t].SeedIndex;
            scalars[t] = local.Steps[t].Value;
        }
        var metrics = new Dictionary<string, double> { ["dropped_steps"] = local.DroppedSteps };
        if (double.IsFinite(local.MeanLoss)) metrics["train_loss"] = local.MeanLoss;
        return ValueTask.FromResult(new LocalTrainingResult(new SeedScalarsPayload(indices, scalars), (ulong)examples.Length, metrics));
    }

    /// <summary>Perturbs the tensors <paramref name="pattern"/> names from now on (the server's choice, sent in every task;
    /// the queued deltas, replayed with the task's settings, were made on the same tensors).</summary>
    private void UseTrainable(string? pattern)
    {
        if (_trainable is not null && _trainableInUse == pattern) return;
        _trainable = TrainableSet.Create(_model!.Parameters, pattern);
        _trainableInUse = pattern;
    }

    /// <summary>
    /// Refuses a ΔH that no honest server sends, before any of it is applied: a non-finite value, or (once a task gave
    /// τ and G) one beyond |ΔH[s]| ≤ (to − from)·τ·G — each aggregated round adds Σᵢ aᵢ·Σ gᵢ on s with Σᵢ aᵢ = 1 and at most
    /// τ scalars |g| ≤ G per client (docs/server.md §Limits). Applying it would make every later model non-finite.
    /// </summary>
    /// <exception cref="InvalidDataException">Naming the seed and the value.</exception>
    private static void CheckDelta(GlobalModelDelta delta, RoundSettings? settings)
    {
        double bound = settings is { MaxAbsScalar: > 0 } s
            ? (double)(delta.ToVersion - delta.FromVersion) * s.LocalSteps * s.MaxAbsScalar * (1 + 1e-6)   // slack: float32 rounding of ΔH
            : double.PositiveInfinity;
        for (int i = 0; i < delta.ScalarDeltas.Length; i++)
        {
            float value = delta.ScalarDeltas[i];
            if (!float.IsFinite(value))
                throw new InvalidDataException($"The server sent ΔH[{delta.SeedIndices[i]}] = {value} (versions {delta.FromVersion} → {delta.ToVersion}); " +
                    "a non-finite model change is refused, not applied.");
            if (Math.Abs(value) > bound)
                throw new InvalidDataException($"The server sent ΔH[{delta.SeedIndices[i]}] = {value:G9} (versions {delta.FromVersion} → {delta.ToVersion}); " +
                    $"it is beyond (to − from)·τ·G = {bound:G9}, so it is refused, not applied.");
        }
    }

    /// <summary>Replays the queued deltas into the held copy: w ← w − η·ΔH[s]·z(s), one delta after another.</summary>
    private void ReplayQueued(RoundSettings settings)
    {
        if (_deltas.Pending.Count == 0) return;
        foreach (var delta in _deltas.Pending) CheckDelta(delta, settings);   // queued before τ and G were known
        RestoreGlobal();
        var sync = new FedKSeedSync(_model!, _trainable!, settings.SeedPool, settings.LearningRate);
        foreach (var delta in _deltas.Pending) sync.Apply(delta.SeedIndices, delta.ScalarDeltas);
        _global!.Store(_model!.Weights);
        _deltas.MarkApplied();
        _saved?.Write(_model.Weights, _deltas.Version);
    }

    /// <summary>The pool, η, τ and G of a task; the pool is derived once per (K, master seed).</summary>
    private RoundSettings SettingsFor(FedKSeedTask f)
    {
        if (_settings is { } s && s.SeedCount == f.SeedCount && s.MasterSeed == f.SeedPoolMasterSeed)
            return _settings = s with { LearningRate = f.LearningRate, LocalSteps = f.LocalSteps, MaxAbsScalar = f.MaxAbsScalar };
        _settings = new RoundSettings(f.SeedCount, f.SeedPoolMasterSeed, f.LearningRate, f.LocalSteps, f.MaxAbsScalar,
            SeedPool.Derive(f.SeedPoolMasterSeed, f.SeedCount));
        return _settings;
    }

    /// <summary>Reads and tokenizes the shard once (the same encoder and length as the simulator).</summary>
    private TokenizedExample[] LoadShard(string path)
    {
        if (_shardPath == path) return _examples;
        var records = InstructionDataset.Load(path).Records;
        if (records.Count == 0) throw new InvalidDataException($"The data shard {path} has no examples.");
        _examples = _encoder!.EncodeAll(records);
        _shardPath = path;
        return _examples;
    }

    private void RestoreGlobal() => _global!.CopyTo(_model!.Weights);

    /// <summary>Deletes the held-weights scratch file.</summary>
    public void Dispose() => _global?.Dispose();

    private void EnsureInitialized()
    {
        if (_model is null) throw new InvalidOperationException("InitializeAsync must be called first.");
    }

    private sealed record RoundSettings(int SeedCount, ulong MasterSeed, float LearningRate, int LocalSteps, float MaxAbsScalar, ulong[] SeedPool);
}
