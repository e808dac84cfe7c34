using Federated.Client.Training;
using Federated.Compression;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Training;

namespace Federated.Client.ComPeft;

/// <summary>
/// <see cref="ILocalTrainer"/> for ComPEFT on the engine: the same per-client work as the simulator
/// (<c>ComPeftSimulation.RunRound</c>), driven by the server's tasks.
/// <list type="bullet">
/// <item>State: the base model (never modified), the held global adapter and a working adapter (2 × adapter floats),
/// plus the error-feedback residual (n floats) when the round asks for it. Nothing is persisted: on start the held
/// version is 0 (the shared initial adapter: A from <c>lora_a_seed</c>, B = 0) and the edge client syncs the change
/// since 0. A residual is lost on restart (the next round starts it from zero).</item>
/// <item>Sync: a COMPRESSED_ADAPTER payload (ternary or dense, <see cref="AdapterUpdatePayload"/>) is decoded into a
/// zero vector and added to the held adapter's trainable tensors (<see cref="LoraUpdateLayout.AddTo"/>) — the same
/// float operations as the simulator, so a client that syncs every version holds the simulator's global adapter bit
/// for bit. The adapter needs the task's LoRA settings; a change that arrives before the first task is queued.</item>
/// <item>Train: working adapter ← held adapter; <see cref="LoraTrainer.Train"/> (τ AdamW steps of batch B, clip 1)
/// with client stream seed = the task's <c>step_seed</c> (FederationCoordinator.ClientRoundSeed, the simulator's rule
/// too); Δ → <see cref="ComPeftUpdateEncoder"/> at the task's density and scale rule. Sample count = the shard's
/// examples (the aggregation weight).</item>
/// </list>
/// </summary>
public sealed class ComPeftLocalTrainer : ILocalTrainer
{
    /// <summary>Default maximum tokens per example (the simulator's default).</summary>
    public const int DefaultMaxLength = 128;

    private readonly string _modelDirectory;
    private readonly int _maxLength;
    private readonly PendingModelDeltas _deltas = new(GlobalModelDeltaKind.CompressedAdapter, "ComPEFT");
    private CausalLm? _model;
    private ExampleEncoder? _encoder;
    private AdapterShape? _shape;
    private LoraAdapter? _global;
    private LoraAdapter? _work;
    private LoraUpdateLayout? _layout;
    private float[] _residual = [];
    private string? _shardPath;
    private TokenizedExample[] _examples = [];

    /// <param name="modelDirectory">Base model directory (config.json, *.safetensors, tokenizer.json).</param>
    /// <param name="maxLength">Maximum tokens per example (capped by the model's context).</param>
    public ComPeftLocalTrainer(string modelDirectory, int maxLength = DefaultMaxLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (maxLength < 8) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 8 tokens.");
        _modelDirectory = modelDirectory;
        _maxLength = maxLength;
    }

    /// <summary>The global version the held adapter is at (queued changes included).</summary>
    public long ModelVersion => _deltas.Version;

    /// <summary>The held global adapter (after queued changes); null before the first task. Do not modify.</summary>
    public LoraAdapter? GlobalAdapter => _global;

    /// <inheritdoc />
    public ValueTask<long> InitializeAsync(CancellationToken cancellationToken)
    {
        _model = CausalLm.Load(_modelDirectory);
        _encoder = new ExampleEncoder(HfTokenizer.Load(_modelDirectory), Math.Min(_maxLength, _model.Config.MaxPositions));
        _shape = null;
        _global = _work = null;
        _layout = null;
        _residual = [];
        _deltas.Reset();
        return ValueTask.FromResult(0L);
    }

    /// <inheritdoc />
    public ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delta);
        EnsureInitialized();
        _deltas.Enqueue(delta);
        if (_global is not null) ApplyQueued();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(shard);
        EnsureInitialized();
        var c = task.ComPeft ?? throw new ArgumentException($"Round {task.RoundId} carries no ComPEFT parameters; this trainer runs ComPEFT only.", nameof(task));
        _deltas.EnsureTrainsFrom(task);
        EnsureAdapters(c);
        ApplyQueued();
        var examples = LoadShard(shard.Path);

        _global!.Weights.CopyTo(_work!.Weights);
        var trainer = new LoraTrainer(_model!, new LoraTrainerOptions
        {
            LocalSteps = c.LocalSteps, BatchSize = c.BatchSize, LearningRate = c.LearningRate, FreezeA = c.FreezeA,
        });
        var local = trainer.Train(_work, _layout!, examples, c.StepSeed, task.RoundId);
        var compression = new ComPeftCompressionOptions
        {
            Density = c.Density, ScaleFactor = c.ScaleFactor > 0 ? c.ScaleFactor : (double?)null, LeastSquaresScale = c.LeastSquaresScale,
            ErrorFeedback = c.ErrorFeedback,
        };
        if (compression.ErrorFeedback && !compression.IsDense && _residual.Length != local.Delta.Length) _residual = new float[local.Delta.Length];
        byte[] payload = ComPeftUpdateEncoder.Encode(local.Delta, compression, compression.ErrorFeedback ? _residual : []);
        var metrics = new Dictionary<string, double>();
        if (double.IsFinite(local.MeanLoss)) metrics["train_loss"] = local.MeanLoss;
        return ValueTask.FromResult(new LocalTrainingResult(new CompressedPayload(payload), (ulong)examples.Length, metrics));
    }

    /// <summary>Creates the held and working adapters from the first task's LoRA settings (A from lora_a_seed, B = 0,
    /// as the simulator's shared initial adapter); later tasks must keep them.</summary>
    private void EnsureAdapters(ComPeftTask c)
    {
        var shape = new AdapterShape(c.Rank, c.Alpha, string.Join(",", c.TargetModules), c.FreezeA, c.LoraASeed);
        if (_shape is not null)
        {
            if (_shape != shape) throw new InvalidDataException($"The federation changed its LoRA settings from {_shape} to {shape} mid-run.");
            return;
        }
        var config = new LoraConfig
        {
            Rank = c.Rank, Alpha = c.Alpha, TargetModules = c.TargetModules,
            FanInFanOut = _model!.Projections.Any(p => p.Conv1D), BaseModelNameOrPath = _modelDirectory,
        };
        _global = LoraAdapter.Create(_model, config, c.LoraASeed);
        _work = LoraAdapter.Create(_model, config, c.LoraASeed);
        _global.TrainA = _work.TrainA = !c.FreezeA;
        _layout = LoraUpdateLayout.Create(_global, c.FreezeA);
        _shape = shape;
    }

    /// <summary>Adds each queued change to the held adapter: change = 0 + decode(payload); adapter += change.</summary>
    private void ApplyQueued()
    {
        foreach (var delta in _deltas.Pending)
        {
            var change = new float[_layout!.ElementCount];
            AdapterUpdatePayload.Accumulate(delta.Payload, change);
            _layout.AddTo(_global!, change);
        }
        _deltas.MarkApplied();
    }

    private TokenizedExample[] LoadShard(string path)
    {
        if (_shardPath == path) return _examples;
        var records = InstructionDataset.Load(path).Records;
        if (records.Count == 0) throw new InvalidDataException($"The data shard {path} has no examples.");
        _examples = _encoder!.EncodeAll(records);
        _shardPath = path;
        return _examples;
    }

    private void EnsureInitialized()
    {
        if (_model is null) throw new InvalidOperationException("Call InitializeAsync before using the trainer.");
    }

    private sealed record AdapterShape(int Rank, float Alpha, string TargetModules, bool FreezeA, ulong LoraASeed);
}
