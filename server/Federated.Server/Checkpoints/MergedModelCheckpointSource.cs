using Federated.Compression;
using Federated.Core.IO;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Server.Domain;
using Federated.Server.Strategies;

namespace Federated.Server.Checkpoints;

/// <summary>Builds the full global model at a version, for GetModel's FULL_CHECKPOINT form.</summary>
public interface IModelCheckpointSource
{
    /// <summary>The merged model at <c>fromBase.ToVersion</c> as <c>model.safetensors</c> bytes (float32, HF names),
    /// given the change from version 0 (the base model) to it.</summary>
    byte[] Build(ModelDelta fromBase);
}

/// <summary>
/// The full checkpoint as a client that syncs from version 0 would build it, then written as safetensors:
/// <list type="bullet">
/// <item>FedKSeed: base weights, then θ ← θ − η·ΔH[s]·z(s) for every seed in the ΔH since 0 (ascending index,
/// <see cref="FedKSeedSync"/>, all tensors trainable as `federated join` trains them).</item>
/// <item>ComPEFT: the shared initial adapter (A from lora_a_seed, B = 0) plus the decoded change since 0, merged into
/// the base weights (W += (α/r)·B·A), so the file is a plain model checkpoint.</item>
/// </list>
/// A client that synced version by version holds the same model up to float rounding (ΔH and adapter changes are
/// summed on the server before they are applied). Memory: the model (loaded on first use) + one copy of its base
/// weights. Not thread-safe: the caller serialises (<c>FullCheckpointCache</c>).
/// </summary>
public sealed class MergedModelCheckpointSource : IModelCheckpointSource
{
    private readonly string _modelDirectory;
    private readonly FedKSeedStrategyOptions? _fedKSeed;
    private readonly ComPeftStrategyOptions? _comPeft;
    private CausalLm? _model;
    private float[] _baseWeights = [];

    /// <summary>For a FedKSeed federation (η, K, the pool's master seed and the trained tensors of <paramref name="fedKSeed"/>).</summary>
    public MergedModelCheckpointSource(string modelDirectory, FedKSeedStrategyOptions fedKSeed)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentNullException.ThrowIfNull(fedKSeed);
        _modelDirectory = modelDirectory;
        _fedKSeed = fedKSeed;
    }

    /// <summary>For a ComPEFT federation (rank, α, targets, FFA and lora_a_seed of <paramref name="comPeft"/>).</summary>
    public MergedModelCheckpointSource(string modelDirectory, ComPeftStrategyOptions comPeft)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentNullException.ThrowIfNull(comPeft);
        _modelDirectory = modelDirectory;
        _comPeft = comPeft;
    }

    public byte[] Build(ModelDelta fromBase)
    {
        ArgumentNullException.ThrowIfNull(fromBase);
        if (fromBase.FromVersion != 0)
            throw new ArgumentException($"A full checkpoint is built from version 0, not {fromBase.FromVersion}.", nameof(fromBase));
        var model = Load();
        _baseWeights.CopyTo(model.Weights);
        if (_fedKSeed is { } f)
        {
            if (fromBase.Kind != ModelDeltaKind.SeedDelta) throw new ArgumentException("A FedKSeed checkpoint needs a seed delta.", nameof(fromBase));
            new FedKSeedSync(model, TrainableSet.Create(model.Parameters, f.Trainable), SeedPool.Derive(f.SeedPoolMasterSeed, f.SeedCount), f.LearningRate)
                .Apply(fromBase.SeedIndices, fromBase.ScalarDeltas);
        }
        else
        {
            var c = _comPeft!;
            if (fromBase.Kind != ModelDeltaKind.CompressedAdapter) throw new ArgumentException("A ComPEFT checkpoint needs an adapter payload.", nameof(fromBase));
            var config = new LoraConfig
            {
                Rank = c.Rank, Alpha = c.Alpha, TargetModules = c.TargetModules, FanInFanOut = model.Projections.Any(p => p.Conv1D),
            };
            var adapter = LoraAdapter.Create(model, config, c.LoraASeed);
            var layout = LoraUpdateLayout.Create(adapter, c.FreezeA);
            var change = new float[layout.ElementCount];
            AdapterUpdatePayload.Accumulate(fromBase.Payload, change);
            layout.AddTo(adapter, change);
            adapter.MergeInto(model);
        }
        using var stream = new MemoryStream();
        SafeTensorsWriter.Write(stream, model.Parameters.Select(p => new TensorToWrite(p.Name, p.Shape, p.Memory)),
            new Dictionary<string, string> { ["format"] = "pt", ["federated_model_version"] = fromBase.ToVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return stream.ToArray();
    }

    private CausalLm Load()
    {
        if (_model is not null) return _model;
        _model = CausalLm.Load(_modelDirectory);
        _baseWeights = _model.Weights.ToArray();
        return _model;
    }
}
