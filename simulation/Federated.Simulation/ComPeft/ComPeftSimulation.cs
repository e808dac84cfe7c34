using System.Security.Cryptography;
using Federated.Client.ComPeft;
using Federated.Core.Generation;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Data;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Federated.Compression.Dense;
using Federated.Privacy.Capture;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Strategies;
using Federated.Simulation.Capture;
using Federated.Simulation.Federation;
using Google.Protobuf;

namespace Federated.Simulation.ComPeft;

/// <summary>
/// ComPEFT with N clients in one process, through the real pieces: the client's <see cref="LoraTrainer"/> and
/// <see cref="ComPeftUpdateEncoder"/>, the server's coordinator and <see cref="ComPeftStrategy"/> (selection, batch
/// seeds, validation, mean/TIES merge, change since a version; see <see cref="SimulatedFederation{TParameters}"/>), exchanging real protobuf messages whose serialized sizes are the bytes reported.
/// The base model is never modified: the global state is one LoRA adapter (<see cref="GlobalAdapter"/>); a working
/// adapter is reset to it before each client trains. Memory: model + 2 adapters (+ one residual per client that has
/// trained, with error feedback). Determinism: every random choice is an owned SplitMix64 stream of (seed, round,
/// client), and the engine is thread-count invariant, so metrics.jsonl is identical across runs and --threads.
/// </summary>
public sealed class ComPeftSimulation : ISimulation, ISimulatedMethod<ComPeftRoundParameters>, IDisposable
{
    private readonly ComPeftSimulationOptions _options;
    private readonly SimulationSetup _setup;
    private readonly CausalLm _model;
    private readonly LoraAdapter _global;
    private readonly LoraAdapter _work;
    private readonly LoraUpdateLayout _layout;
    private readonly LoraTrainer _trainer;
    private readonly ComPeftCompressionOptions _compression;
    private readonly Dictionary<int, float[]> _residuals = [];
    private readonly TensorExtent[] _extents;
    private readonly CaptureWriter? _capture;
    private readonly SimulatedFederation<ComPeftRoundParameters> _rounds;
    private long _globalVersion;

    /// <summary>Loads the model, data and partition and creates the shared initial adapter; nothing is trained yet.</summary>
    public ComPeftSimulation(ComPeftSimulationOptions options)
    {
        options.Validate();
        _options = options;
        _setup = SimulationSetup.Load(options);
        _model = _setup.Model;

        var config = new LoraConfig
        {
            Rank = options.LoraRank, Alpha = options.LoraAlpha, TargetModules = options.TargetModules,
            FanInFanOut = _model.Projections.Any(p => p.Conv1D), BaseModelNameOrPath = options.ModelDirectory,
        };
        // The shared initial adapter: A from the run seed (identical on every client), B = 0.
        _global = LoraAdapter.Create(_model, config, options.Seed);
        _work = LoraAdapter.Create(_model, config, options.Seed);
        _global.TrainA = _work.TrainA = !options.FreezeA;
        _layout = LoraUpdateLayout.Create(_global, options.FreezeA);
        _extents = [.. _layout.Names.Select((name, i) => new TensorExtent { Name = name, ElementCount = (ulong)_layout.TensorLengths[i] })];
        _trainer = new LoraTrainer(_model, new LoraTrainerOptions
        {
            LocalSteps = options.LocalSteps, BatchSize = options.BatchSize, LearningRate = options.LearningRate,
            MaxGradNorm = options.MaxGradNorm, FreezeA = options.FreezeA,
            DpClipNorm = options.DpClipNorm, DpNoiseMultiplier = options.DpNoiseMultiplier,
        });
        // Density and scale factor as the wire carries them (float32 in ComPeftParameters), so that a networked client
        // compresses with exactly these values.
        _compression = new ComPeftCompressionOptions
        {
            Density = (float)options.UploadDensity, ScaleFactor = (float?)options.ScaleFactor, LeastSquaresScale = options.LeastSquaresScale,
            ErrorFeedback = options.ErrorFeedback, Uncompressed = options.Uncompressed,
        };
        var strategy = new ComPeftStrategy(new ComPeftStrategyOptions
        {
            UpdateElementCount = _layout.ElementCount, Rank = options.LoraRank, Alpha = options.LoraAlpha,
            TargetModules = options.TargetModules, Density = (float)options.UploadDensity, ScaleFactor = (float)(options.ScaleFactor ?? 0),
            LearningRate = options.LearningRate, LocalSteps = options.LocalSteps, BatchSize = options.BatchSize,
            FreezeA = options.FreezeA, LoraASeed = options.Seed, LeastSquaresScale = options.LeastSquaresScale,
            ErrorFeedback = options.ErrorFeedback, Aggregation = options.Aggregation,
            Ties = new Aggregation.Merging.TiesOptions { Lambda = options.TiesLambda }, DownlinkDensity = (float)options.DownlinkDensity,
        });
        if (options.CaptureDirectory is { } captureDir)
            _capture = new CaptureWriter(captureDir, Manifest(_setup.TrainRecordCount), _setup.Canaries, SecureSum, static version => version);
        _rounds = new(options, strategy, _setup, _capture, this);
    }

    /// <summary>run.json of this run.</summary>
    private CaptureManifest Manifest(int trainCount) => new()
    {
        Method = "compeft", ModelDir = Path.GetFullPath(_options.ModelDirectory), Data = _options.Data, EvalData = _options.EvalData, Partition = _options.Partition,
        Clients = _options.Clients, ClientsPerRound = _options.ClientsPerRound, Rounds = _options.Rounds, Seed = _options.Seed,
        MaxLength = _options.MaxLength, LocalSteps = _options.LocalSteps, BatchSize = _options.BatchSize, LearningRate = _options.LearningRate,
        LoraRank = _options.LoraRank, LoraAlpha = _options.LoraAlpha, LoraTargets = _options.TargetModules, LoraASeed = _options.Seed,
        FreezeA = _options.FreezeA, Density = _options.UploadDensity, Uncompressed = _compression.IsDense, ScaleFactor = _options.ScaleFactor,
        LeastSquaresScale = _options.LeastSquaresScale, ErrorFeedback = _options.ErrorFeedback,
        Aggregation = _options.Aggregation.ToString().ToLowerInvariant(), MaxGradNorm = _options.MaxGradNorm,
        DpClipNorm = _options.DpClipNorm, DpNoiseMultiplier = _options.DpNoiseMultiplier, SecureAggregation = _options.SecureAggregation,
        CanaryClient = _options.Canaries is { Count: > 0 } ? 0 : null, TrainCount = trainCount,
    };

    /// <summary>Secure aggregation's view of a round: Σᵢ (nᵢ/Σn)·Δ̂ᵢ as a dense payload (what the mean merge computes,
    /// before any downlink re-compression).</summary>
    private byte[] SecureSum(IReadOnlyList<AcceptedUpdate> accepted, byte[] version)
    {
        var sum = new float[_layout.ElementCount];
        double total = accepted.Sum(a => (double)a.SampleCount);
        foreach (var a in accepted)
        {
            float w = (float)(a.SampleCount / total);
            if (DenseUpdateCodec.HasMagic(a.Payload)) DenseUpdateCodec.DecodeAccumulate(a.Payload, w, sum);
            else Compression.Ternary.TernaryCodec.DecodeAccumulate(a.Payload, w, sum);
        }
        return DenseUpdateCodec.Encode(sum);
    }

    /// <summary>Closes the simulated server's store and the capture files.</summary>
    public void Dispose()
    {
        _rounds.Dispose();
        _capture?.Dispose();
    }

    /// <inheritdoc />
    public SimulationShape Shape => new("compeft",
        $"ComPEFT · {_options.Clients} clients, {_options.ClientsPerRound} per round, {_options.Rounds} rounds, " +
        $"{(_options.FreezeA ? "FFA-LoRA" : "LoRA")} r={_options.LoraRank} α={_options.LoraAlpha:G3} [{string.Join(",", _options.TargetModules)}], " +
        $"τ={_options.LocalSteps}×{_options.BatchSize}, lr={_options.LearningRate:G3}, " +
        (_compression.IsDense ? "uncompressed" : $"density {_options.Density:G3}{(_options.ErrorFeedback ? " + EF" : "")}") +
        $", {_options.Aggregation.ToString().ToLowerInvariant()}, partition {_options.Partition}",
        _options.Clients, _options.ClientsPerRound, _options.Rounds, _options.Partition, _options.GenerationExamples);

    /// <summary>n, elements of one client update (B only with FFA-LoRA).</summary>
    public long TrainableElements => _layout.ElementCount;

    /// <inheritdoc />
    public long? Fp32UpdateBytes => 4L * _layout.ElementCount;

    /// <summary>The global adapter after the rounds run so far.</summary>
    public LoraAdapter GlobalAdapter => _global;

    internal LoraUpdateLayout Layout => _layout;
    internal IReadOnlyList<int[]> Shards => _setup.Shards;
    internal TokenizedCorpus TrainExamples => _setup.Train;
    internal CausalLm Model => _model;

    /// <inheritdoc />
    public ModelQuality Evaluate(bool generate, Action<int, int>? progress = null)
    {
        _model.AttachAdapter(_global);
        _model.KeepActivationsForBackward = false;
        return _setup.Evaluate(_model, _options, generate, progress);
    }

    /// <inheritdoc />
    public RoundMetrics RunRound(long round, Action<int, int>? clientProgress = null) => _rounds.Run(round, clientProgress);

    /// <summary>One client's round: the working adapter reset to the global one, τ AdamW steps on its shard; its update
    /// is the adapter change, ternary-compressed (with its error-feedback residual) or dense.</summary>
    ClientWork IClientWork<ComPeftRoundParameters>.Train(ClientTask<ComPeftRoundParameters> task, ShardView shard)
    {
        _global.Weights.CopyTo(_work.Weights);
        var local = _trainer.Train(_work, _layout, shard, task.StreamSeed, task.RoundId);
        var residual = _options.ErrorFeedback && !_compression.IsDense ? Residual(task.Client) : [];
        byte[] payload = ComPeftUpdateEncoder.Encode(local.Delta, _compression, residual);
        var update = new ClientUpdate { Compressed = new CompressedUpdate { Payload = ByteString.CopyFrom(payload) } };
        return new ClientWork(payload, update, local.MeanLoss, 0, local.Steps, local.SamplingRate, local.ExampleIndices);
    }

    /// <inheritdoc />
    long ISimulatedMethod<ComPeftRoundParameters>.GlobalVersion => _globalVersion;

    /// <summary>The new version into the global adapter: adds its change (the merged Δ) to the weights.</summary>
    void ISimulatedMethod<ComPeftRoundParameters>.Apply(ModelDelta delta)
    {
        if (delta.FromVersion != _globalVersion)
            throw new InvalidOperationException($"A change from version {delta.FromVersion} cannot apply to the global adapter at {_globalVersion}.");
        var change = new float[_layout.ElementCount];
        ComPeftStrategy.AccumulateVersion(delta.Payload, change);
        _layout.AddTo(_global, change);
        _globalVersion = delta.ToVersion;
    }

    /// <summary>Saves the global adapter as a PEFT adapter in outDir/adapter (loadable by `federated generate --adapter`).</summary>
    public IReadOnlyList<string> SaveArtifacts(string outDir)
    {
        string dir = Path.Combine(outDir, "adapter");
        _global.Save(dir);
        return [dir];
    }

    /// <summary>The RoundTask's ComPEFT part: its hyper-parameters.</summary>
    void ISimulatedMethod<ComPeftRoundParameters>.DescribeTask(RoundTask task, ComPeftRoundParameters p, ulong stepSeed)
    {
        var hyper = new ComPeftParameters
        {
            Rank = (uint)p.Rank, Alpha = p.Alpha, Density = p.Density, ScaleFactor = p.ScaleFactor, LearningRate = p.LearningRate,
            LocalSteps = (uint)p.LocalSteps, BatchSize = (uint)p.BatchSize, FreezeA = p.FreezeA, LoraASeed = p.LoraASeed,
            LeastSquaresScale = p.LeastSquaresScale, ErrorFeedback = p.ErrorFeedback, StepSeed = stepSeed, MaxUpdateElement = p.MaxUpdateElement,
        };
        hyper.TargetModules.Add(p.TargetModules);
        (task.Method, task.Compeft) = (TrainingMethod.Compeft, hyper);
    }

    /// <summary>One ModelChunk carrying an adapter change (sha256 and layout included; a deployment splits large
    /// payloads into model_chunk_bytes pieces); none for an up-to-date client.</summary>
    ModelChunk? ISimulatedMethod<ComPeftRoundParameters>.SyncChunk(ModelDelta delta)
    {
        var payload = delta.Payload;
        if (payload.Length == 0) return null;
        var chunk = new ModelChunk
        {
            ModelVersion = (ulong)delta.ToVersion, Kind = ModelPayloadKind.CompressedAdapter,
            TotalBytes = (ulong)payload.Length, Sha256 = ByteString.CopyFrom(SHA256.HashData(payload)), Offset = 0,
            Data = ByteString.CopyFrom(payload),
        };
        chunk.Layout.Add(_extents);
        return chunk;
    }

    private float[] Residual(int client)
    {
        if (!_residuals.TryGetValue(client, out var residual))
            _residuals[client] = residual = new float[_layout.ElementCount];
        return residual;
    }

    /// <summary>Client <paramref name="client"/>'s batch stream seed in a round (<see cref="SimulatedFederation{TParameters}.StreamSeed"/>).</summary>
    internal ulong ClientStreamSeed(int client, long round) => _rounds.StreamSeed(round, client);
}
