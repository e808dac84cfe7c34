using Federated.Client.FedKSeed;
using Federated.Core.Generation;
using Federated.Core.IO;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Federated.Data.WordNet;
using Federated.Aggregation.FedKSeed;
using Federated.Privacy.Capture;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Strategies;
using Federated.Simulation.Capture;
using Federated.Simulation.Federation;
using Google.Protobuf;

namespace Federated.Simulation.FedKSeed;

/// <summary>
/// FedKSeed with N clients in one process, wired through the real pieces: the server's coordinator and
/// <see cref="FedKSeedStrategy"/> (selection, step seeds, validation, aggregation of H, ΔH since a version; see
/// <see cref="SimulatedFederation{TParameters}"/>) and the client's <see cref="FedKSeedTrainer"/>, exchanging the
/// real protobuf messages (their serialized sizes are the bytes reported).
/// Memory: one working model; the global weights clients start from are held in a scratch file (<see cref="HeldWeights"/>,
/// OS page cache, not process memory); a simulated client is its example indices and
/// its last synced version, never a model, so 1,000 clients cost what one does.
/// Determinism: every random choice is an owned SplitMix64 stream of (run seed, round, client), and the engine and the
/// seed protocol are thread-count invariant, so metrics.jsonl is identical across runs and --threads values.
/// </summary>
public sealed class FedKSeedSimulation : ISimulation, ISimulatedMethod<FedKSeedRoundParameters>, IDisposable
{
    private readonly FedKSeedSimulationOptions _options;
    private readonly SimulationSetup _setup;
    private readonly CausalLm _model;
    private readonly TrainableSet _trainable;
    private readonly HeldWeights _global;
    private readonly FedKSeedTrainer _trainer;
    private readonly ulong[] _seedPool;
    private readonly FedKSeedSync _sync;
    private readonly CaptureWriter? _capture;
    private readonly SimulatedFederation<FedKSeedRoundParameters> _rounds;
    private FedKSeedRoundPlan? _plan;
    private long _globalVersion;

    /// <summary>Loads the model, data and partition; nothing is trained yet.</summary>
    public FedKSeedSimulation(FedKSeedSimulationOptions options)
    {
        options.Validate();
        _options = options;
        _setup = SimulationSetup.Load(options);
        _model = _setup.Model;
        _model.KeepActivationsForBackward = false; // zeroth-order: inference memory only
        _trainable = TrainableSet.Create(_model.Parameters, options.Trainable);
        // The global weights between clients live in a scratch file, so the process holds one model however many clients.
        _global = new HeldWeights(_model.Weights, Path.GetTempPath());
        var strategy = new FedKSeedStrategy(new FedKSeedStrategyOptions
        {
            SeedCount = options.Seeds, SeedPoolMasterSeed = options.Seed, LocalSteps = options.LocalSteps,
            Epsilon = options.Epsilon, LearningRate = options.LearningRate, Pro = options.Pro, Trainable = options.Trainable,
        });
        _seedPool = SeedPool.Derive(options.Seed, options.Seeds);
        _sync = new FedKSeedSync(_model, _trainable, _seedPool, options.LearningRate);
        _trainer = new FedKSeedTrainer(_model, _trainable, _seedPool,
            new FedKSeedTrainerOptions { DpClipNorm = options.DpClipNorm, DpNoiseMultiplier = options.DpNoiseMultiplier });
        if (options.CaptureDirectory is { } captureDir)
            _capture = new CaptureWriter(captureDir, Manifest(_setup.TrainRecordCount), _setup.Canaries, (_, version) => RoundIncrement(version), RoundIncrement);
        _rounds = new(options, strategy, _setup, _capture, this);
    }

    /// <summary>run.json of this run.</summary>
    private CaptureManifest Manifest(int trainCount) => new()
    {
        Method = "fedkseed", ModelDir = Path.GetFullPath(_options.ModelDirectory), Data = _options.Data, EvalData = _options.EvalData, Partition = _options.Partition,
        Clients = _options.Clients, ClientsPerRound = _options.ClientsPerRound, Rounds = _options.Rounds, Seed = _options.Seed,
        MaxLength = _options.MaxLength, LocalSteps = _options.LocalSteps, BatchSize = 1, LearningRate = _options.LearningRate,
        SeedCount = _options.Seeds, SeedPoolMasterSeed = _options.Seed, Epsilon = _options.Epsilon, Trainable = _options.Trainable,
        DpClipNorm = _options.DpClipNorm, DpNoiseMultiplier = _options.DpNoiseMultiplier, SecureAggregation = _options.SecureAggregation,
        CanaryClient = _options.Canaries is { Count: > 0 } ? 0 : null, TrainCount = trainCount,
    };

    /// <summary>A stored round (FedKSeedRoundCodec) → its ΔH = Σᵢ aᵢ·Lᵢ[s] as a SeedScalars message (seed order): the
    /// version's change, and all a server behind secure aggregation learns of the round.</summary>
    private byte[] RoundIncrement(byte[] storedRound)
    {
        return SeedScalars.From(FedKSeedAccumulator.RoundIncrement(_options.Seeds, FedKSeedRoundCodec.Decode(storedRound))
            .Select(e => new SeedScalar(e.SeedIndex, (float)e.Increment))).ToByteArray();
    }

    /// <summary>Closes the simulated server's store and the capture files.</summary>
    public void Dispose()
    {
        _rounds.Dispose();
        _capture?.Dispose();
        _global.Dispose();
    }

    /// <summary>Parameters the run trains (elements).</summary>
    public long TrainableElements => _trainable.ElementCount;

    /// <inheritdoc />
    public SimulationShape Shape => new("fedkseed",
        $"FedKSeed · {_options.Clients} clients, {_options.ClientsPerRound} per round, {_options.Rounds} rounds, K={_options.Seeds}, " +
        $"τ={_options.LocalSteps}, ε={_options.Epsilon:G3}, η={_options.LearningRate:G3}, partition {_options.Partition}",
        _options.Clients, _options.ClientsPerRound, _options.Rounds, _options.Partition, _options.GenerationExamples);

    /// <inheritdoc />
    public long? Fp32UpdateBytes => null;

    /// <inheritdoc />
    /// <summary>Saves the final global model as a Hugging Face folder in outDir/model (loadable by `federated eval --model`).</summary>
    public IReadOnlyList<string> SaveArtifacts(string outDir)
    {
        string dir = Path.Combine(outDir, "model");
        ModelFolder.Write(GlobalModel, _options.ModelDirectory, dir);
        return [dir];
    }

    /// <summary>The global model after the rounds run so far (the working model holds it between rounds).</summary>
    public CausalLm GlobalModel { get { RestoreGlobal(); return _model; } }

    /// <summary>Evaluates the current global model (loss; Rouge-L and accuracy when <paramref name="generate"/>).</summary>
    public ModelQuality Evaluate(bool generate, Action<int, int>? progress = null)
    {
        RestoreGlobal();
        return _setup.Evaluate(_model, _options, generate, progress);
    }

    /// <summary>Runs round <paramref name="round"/> (rounds must be run in order 1, 2, …).</summary>
    public RoundMetrics RunRound(long round, Action<int, int>? clientProgress = null) => _rounds.Run(round, clientProgress);

    /// <summary>One client's round: from the global weights, τ zeroth-order steps on its shard; its update is the
    /// (seed index, scalar) pairs as a SeedScalars message.</summary>
    ClientWork IClientWork<FedKSeedRoundParameters>.Train(ClientTask<FedKSeedRoundParameters> task, ShardView shard)
    {
        var parameters = task.Parameters;
        if (_plan?.Round != task.RoundId)
            _plan = new FedKSeedRoundPlan(task.RoundId, parameters.LocalSteps, parameters.Epsilon, parameters.LearningRate,
                [.. parameters.SeedProbabilities.Select(p => (double)p)], parameters.MaxAbsScalar);
        RestoreGlobal();
        var local = _trainer.Train(_plan, shard, task.StreamSeed);
        var payload = SeedScalars.From(local.Steps);
        return new ClientWork(payload.ToByteArray(), new ClientUpdate { SeedScalars = payload }, local.MeanLoss, local.DroppedSteps,
            local.Steps.Length, local.SamplingRate, local.ExampleIndices);
    }

    /// <inheritdoc />
    long ISimulatedMethod<FedKSeedRoundParameters>.GlobalVersion => _globalVersion;

    /// <summary>The new version into the global weights: replays its ΔH from the restored global state.</summary>
    void ISimulatedMethod<FedKSeedRoundParameters>.Apply(ModelDelta delta)
    {
        if (delta.FromVersion != _globalVersion)
            throw new InvalidOperationException($"A change from version {delta.FromVersion} cannot apply to the global model at {_globalVersion}.");
        RestoreGlobal();
        _sync.Apply(delta.SeedIndices, delta.ScalarDeltas);
        _global.Store(_model.Weights);
        _globalVersion = delta.ToVersion;
    }

    /// <summary>The RoundTask's FedKSeed part: hyper-parameters and, with Pro, the seed probabilities.</summary>
    void ISimulatedMethod<FedKSeedRoundParameters>.DescribeTask(RoundTask task, FedKSeedRoundParameters parameters, ulong stepSeed)
    {
        var hyper = new FedKSeedParameters
        {
            SeedCount = (uint)parameters.SeedCount, SeedPoolMasterSeed = parameters.SeedPoolMasterSeed, LocalSteps = (uint)parameters.LocalSteps,
            Epsilon = parameters.Epsilon, LearningRate = parameters.LearningRate, BatchSize = (uint)parameters.BatchSize, StepSeed = stepSeed,
            Trainable = parameters.Trainable ?? "",
            MaxAbsScalar = parameters.MaxAbsScalar,
        };
        hyper.SeedProbabilities.Add(parameters.SeedProbabilities);
        (task.Method, task.Fedkseed) = (TrainingMethod.Fedkseed, hyper);
    }

    /// <summary>The ModelChunk carrying a ΔH download (sent even when empty).</summary>
    ModelChunk ISimulatedMethod<FedKSeedRoundParameters>.SyncChunk(ModelDelta delta)
    {
        return new ModelChunk
        {
            ModelVersion = (ulong)delta.ToVersion, Kind = ModelPayloadKind.SeedDelta,
            SeedDelta = SeedScalarDelta.Create(delta.FromVersion, _options.Seeds, delta.SeedIndices, delta.ScalarDeltas),
        };
    }

    private void RestoreGlobal() => _global.CopyTo(_model.Weights);
}
