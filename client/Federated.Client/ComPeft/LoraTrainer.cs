using Federated.Client.Privacy;
using Federated.Core.Generation;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Optim;
using Federated.Data.Training;

namespace Federated.Client.ComPeft;

/// <summary>Local first-order LoRA training of one ComPEFT round (docs/compeft.md §1).</summary>
public sealed record LoraTrainerOptions
{
    /// <summary>τ, optimizer steps per round. Default 20.</summary>
    public int LocalSteps { get; init; } = 20;

    /// <summary>B, examples per step (drawn with replacement from the client's shard). Default 4.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>AdamW learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>AdamW decoupled weight decay. Default 0 (so Δ is the data's pull only).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Global-norm gradient clipping before each step; 0 = off. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>FFA-LoRA: A stays at its shared initialisation, only B trains. Default true.</summary>
    public bool FreezeA { get; init; } = true;

    /// <summary>DP-SGD per-example clip norm C (L2 over the trainable adapter gradient); 0 = DP off (default). With C > 0
    /// each example's gradient is clipped to C, the clipped gradients are summed, N(0, σ²C²) noise is added and the sum is
    /// divided by B (Abadi et al. 2016); the global-norm clip <see cref="MaxGradNorm"/> is then not applied.</summary>
    public double DpClipNorm { get; init; }

    /// <summary>DP-SGD noise multiplier σ (noise std = σ·C on the summed clipped gradient); 0 = clip only. Default 0.</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>True when DP-SGD (per-example clipping, optional noise) is on.</summary>
    public bool DpEnabled => DpClipNorm > 0;

    public void Validate()
    {
        if (LocalSteps < 1) throw new ArgumentOutOfRangeException(nameof(LocalSteps), LocalSteps, "LocalSteps (τ) must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and > 0.");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be finite and ≥ 0.");
        if (!(MaxGradNorm >= 0) || !double.IsFinite(MaxGradNorm)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "MaxGradNorm must be finite and ≥ 0 (0 = off).");
        DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, nameof(DpClipNorm), nameof(DpNoiseMultiplier));
    }
}

/// <summary>A client's round: Δ = adapter after − adapter at round start (flattened in the layout's order), and the
/// mean training loss of its steps.</summary>
public sealed record LoraLocalResult(float[] Delta, double MeanLoss, int Steps)
{
    /// <summary>The shard-local indices of the examples trained on, in step order (τ·B entries, step-major). The
    /// client's secret: the simulator's capture keeps them only as ground truth for scoring privacy probes.</summary>
    public int[] ExampleIndices { get; init; } = [];

    /// <summary>q = B / |shard|, the per-step sampling rate an RDP accountant needs (batches are drawn with replacement,
    /// not Poisson-sampled: the accountant's figure is an approximation, docs/privacy-defences.md).</summary>
    public double SamplingRate { get; init; }
}

/// <summary>
/// The client side of a ComPEFT round: from the round's global adapter, τ AdamW steps of LoRA on the client's examples
/// (batches of B, response-only loss via <see cref="TokenizedExample.LossMask"/>, right-padded, padding masked), with a
/// fresh optimizer state every round, then Δ = θ_end − θ_start over the trainable tensors. The base weights are never
/// touched (<see cref="CausalLm.TrainBaseWeights"/> = false; only adapter gradients exist). With FFA-LoRA the adapter's
/// A is frozen (<see cref="LoraAdapter.TrainA"/> = false: no dA, not in the optimizer) and Δ holds B only.
/// Batches come from an owned SplitMix64 stream keyed by (client stream seed, round), so a run is reproducible and the
/// client keeps no state between rounds. Time: τ·(forward + backward) of B sequences; the optimizer is O(n).
/// </summary>
public sealed class LoraTrainer
{
    private readonly CausalLm _model;
    private readonly LoraTrainerOptions _options;

    public LoraTrainer(CausalLm model, LoraTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _model = model;
        _options = options;
    }

    public LoraTrainerOptions Options => _options;

    /// <summary>
    /// Trains <paramref name="adapter"/> in place (it must hold the round's global adapter) and returns Δ. The adapter
    /// is attached to the model and stays attached. <paramref name="layout"/> must be the layout of this adapter with
    /// the same FreezeA as the options.
    /// </summary>
    public LoraLocalResult Train(LoraAdapter adapter, LoraUpdateLayout layout, IReadOnlyList<TokenizedExample> shard, ulong clientStreamSeed, long round)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(layout);
        if (shard.Count == 0) throw new ArgumentException("The client has no training examples.", nameof(shard));
        if (layout.FreezeA != _options.FreezeA)
            throw new ArgumentException($"The update layout has FreezeA = {layout.FreezeA} but the trainer has {_options.FreezeA}.", nameof(layout));

        adapter.TrainA = !_options.FreezeA;
        if (!ReferenceEquals(_model.Adapter, adapter)) _model.AttachAdapter(adapter);
        _model.TrainBaseWeights = false;
        _model.KeepActivationsForBackward = true;

        var start = new float[layout.ElementCount];
        layout.Gather(adapter, start);
        var trainable = layout.Tensors(adapter).ToArray();
        var optimizer = new AdamW(trainable, new AdamWOptions { LearningRate = _options.LearningRate, WeightDecay = _options.WeightDecay });

        var random = new SplitMix64(SplitMix64.Derive(clientStreamSeed, round));
        int batchSize = _options.BatchSize;
        var batch = new TokenizedExample[batchSize];
        var drawn = new int[_options.LocalSteps * batchSize];
        var dp = _options.DpEnabled ? new DpSgdStep(trainable, _options.DpClipNorm, _options.DpNoiseMultiplier, DpNoise.Seed(clientStreamSeed, round)) : null;
        var packed = new TokenizedBatch();
        double lossSum = 0;
        for (int step = 0; step < _options.LocalSteps; step++)
        {
            for (int b = 0; b < batchSize; b++)
            {
                int index = (int)(random.NextDouble() * shard.Count);
                drawn[step * batchSize + b] = index;
                batch[b] = shard[index];
            }
            float loss;
            if (dp is not null)
            {
                loss = dp.Run(_model, batch, step);
            }
            else
            {
                packed.Pack(batch);
                _model.ZeroGrad();
                loss = _model.ForwardLoss(packed.Ids, packed.BatchSize, packed.SeqLen, packed.LossMask);
                if (float.IsFinite(loss)) _model.Backward();
            }
            if (!float.IsFinite(loss))
                throw new InvalidOperationException($"Round {round}: the training loss became {loss} at step {step}; lower --lr.");
            if (dp is null && _options.MaxGradNorm > 0) GradientClipping.ClipByGlobalNorm(trainable, _options.MaxGradNorm);
            optimizer.Step();
            lossSum += loss;
        }

        var delta = new float[layout.ElementCount];
        layout.Gather(adapter, delta);
        System.Numerics.Tensors.TensorPrimitives.Subtract(delta, start, delta);
        return new LoraLocalResult(delta, lossSum / _options.LocalSteps, _options.LocalSteps)
        {
            ExampleIndices = drawn, SamplingRate = Math.Min(1.0, (double)batchSize / shard.Count),
        };
    }
}
