using Federated.Core.Generation;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Optim;
using Federated.Data.Pretraining;

namespace Federated.Data.Training;

/// <summary>What a centralised fine-tune trains: every weight, or a LoRA adapter on a frozen model.</summary>
public enum FineTuneMode
{
    /// <summary>All base weights (embeddings, attention, MLP, norms) with AdamW.</summary>
    Full,
    /// <summary>A plain LoRA adapter (A and B trained) on the targeted projections; base weights frozen.</summary>
    Lora,
}

/// <summary>Settings of <see cref="FineTuner"/>. Defaults suit the bundled base model on the WordNet train split.</summary>
public sealed record FineTuneOptions
{
    public FineTuneMode Mode { get; init; } = FineTuneMode.Full;

    /// <summary>Optimisation steps (the cosine schedule's length).</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Peak AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 3e-4;

    /// <summary>Linear warm-up steps, then cosine decay to <see cref="MinLrRatio"/> × peak.</summary>
    public int WarmupSteps { get; init; } = 30;

    public double MinLrRatio { get; init; } = 0.1;

    /// <summary>AdamW decoupled weight decay.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Global-norm gradient clipping; 0 = off.</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Seed of the data order (and of LoRA's A).</summary>
    public ulong Seed { get; init; } = 42;

    public int LoraRank { get; init; } = 8;
    public float LoraAlpha { get; init; } = 16;
    public IReadOnlyList<string> LoraTargets { get; init; } = ["q_proj", "v_proj"];

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and > 0.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "WarmupSteps must be ≥ 0.");
        if (!(MinLrRatio is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(MinLrRatio), MinLrRatio, "MinLrRatio must be in [0, 1].");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be finite and ≥ 0.");
        if (!(ClipNorm >= 0) || !double.IsFinite(ClipNorm)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be finite and ≥ 0 (0 = off).");
        if (Mode == FineTuneMode.Lora)
        {
            if (LoraRank < 1) throw new ArgumentOutOfRangeException(nameof(LoraRank), LoraRank, "LoraRank must be at least 1.");
            if (!(LoraAlpha > 0)) throw new ArgumentOutOfRangeException(nameof(LoraAlpha), LoraAlpha, "LoraAlpha must be > 0.");
            if (LoraTargets.Count == 0) throw new ArgumentException("LoRA needs at least one target module.", nameof(LoraTargets));
        }
    }
}

/// <summary>
/// Centralised supervised fine-tuning on one dataset: the upper bound that federated runs are compared with
/// (docs/data.md §Upper bound). Each step takes the next B examples of an epoch-wise shuffled order
/// (SplitMix64(seed, epoch)), packs them right-padded with the response-only mask, and does forward → backward →
/// clip by global norm → AdamW at the warm-up/cosine learning rate. Deterministic for a seed and independent of the
/// thread count (as the kernels are). Time per step: forward + backward of B sequences.
/// </summary>
public sealed class FineTuner
{
    private readonly CausalLm _model;
    private readonly IReadOnlyList<TokenizedExample> _train;
    private readonly FineTuneOptions _options;
    private readonly IReadOnlyList<ParameterTensor> _trainable;
    private readonly AdamW _optimizer;
    private readonly TokenizedBatch _batch = new();
    private readonly TokenizedExample[] _picked;
    private int[] _order = [];
    private int _epoch = -1;

    public FineTuner(CausalLm model, IReadOnlyList<TokenizedExample> train, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("Fine-tuning needs at least one training example.", nameof(train));
        _model = model;
        _train = train;
        _options = options;
        _picked = new TokenizedExample[options.BatchSize];
        if (options.Mode == FineTuneMode.Lora)
        {
            Adapter = LoraAdapter.Create(model, new LoraConfig
            {
                Rank = options.LoraRank, Alpha = options.LoraAlpha, TargetModules = options.LoraTargets,
                FanInFanOut = model.Projections.Any(p => p.Conv1D),
            }, options.Seed);
            Adapter.TrainA = true;
            model.AttachAdapter(Adapter);
            model.TrainBaseWeights = false;
            _trainable = Adapter.Parameters;
        }
        else
        {
            model.TrainBaseWeights = true;
            model.EnableGradients();
            _trainable = model.Parameters;
        }
        model.KeepActivationsForBackward = true;
        _optimizer = new AdamW(_trainable, new AdamWOptions { LearningRate = (float)options.LearningRate, WeightDecay = options.WeightDecay });
    }

    public FineTuneOptions Options => _options;

    /// <summary>The trained adapter in <see cref="FineTuneMode.Lora"/> (attached to the model), else null.</summary>
    public LoraAdapter? Adapter { get; }

    /// <summary>Steps done so far.</summary>
    public int Step { get; private set; }

    /// <summary>Elements trained.</summary>
    public long TrainableElements => _trainable.Sum(static t => (long)t.Length);

    /// <summary>Runs one step; returns its training loss (mean over response tokens of the batch).</summary>
    public float TrainStep()
    {
        for (int b = 0; b < _picked.Length; b++)
        {
            long position = (long)Step * _picked.Length + b;
            int epoch = (int)(position / _train.Count);
            if (epoch != _epoch) Reshuffle(epoch);
            _picked[b] = _train[_order[(int)(position % _train.Count)]];
        }
        _batch.Pack(_picked);
        double lr = LearningRateSchedule.WarmupCosine(Step, _options.LearningRate, _options.WarmupSteps, _options.Steps, _options.MinLrRatio);
        _optimizer.Options = _optimizer.Options with { LearningRate = (float)lr };

        _model.ZeroGrad();
        float loss = _model.ForwardLoss(_batch.Ids, _batch.BatchSize, _batch.SeqLen, _batch.LossMask);
        if (!float.IsFinite(loss))
            throw new InvalidOperationException($"The training loss became {loss} at step {Step}; lower the learning rate.");
        _model.Backward();
        if (_options.ClipNorm > 0) GradientClipping.ClipByGlobalNorm(_trainable, _options.ClipNorm);
        _optimizer.Step();
        Step++;
        return loss;
    }

    private void Reshuffle(int epoch)
    {
        if (_order.Length != _train.Count) _order = [.. Enumerable.Range(0, _train.Count)];
        else for (int i = 0; i < _order.Length; i++) _order[i] = i;
        var random = new SplitMix64(SplitMix64.Derive(_options.Seed, epoch));
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.NextDouble() * (i + 1));
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
        _epoch = epoch;
    }
}
