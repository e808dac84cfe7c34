using System.Globalization;
using Federated.Core.Generation;
using Federated.Core.IO;
using Federated.Core.Models;
using Federated.Core.Optim;

namespace Federated.Data.Pretraining;

/// <summary>
/// Plain next-token pretraining of a <see cref="CausalLm"/> on a <see cref="PretrainCorpus"/>: one step =
/// batch (rows step·B … step·B+B−1) → forward + mean cross-entropy over all B·(T−1) targets → backward →
/// clip by global norm → AdamW at the warm-up/cosine learning rate. Deterministic: the batch depends only on
/// (seed, step) and the kernels do not depend on the thread count, so a resumed run repeats an uninterrupted one bit for bit.
/// Where time goes: the model's forward/backward (≈ 6 · parameters FLOPs per token); the optimizer is O(parameters).
/// </summary>
public sealed class Pretrainer
{
    /// <summary>Format tag of the checkpoint file.</summary>
    public const string CheckpointFormat = "federated-pretrain-v1";

    private readonly PretrainCorpus _corpus;
    private readonly AdamW _adam;
    private readonly int[] _batch;
    private readonly List<float> _losses = [];

    public Pretrainer(CausalLm model, PretrainCorpus corpus, PretrainOptions options, int totalSteps)
    {
        if (corpus.SeqLen != options.SeqLen) throw new ArgumentException($"The corpus rows have {corpus.SeqLen} tokens, the options {options.SeqLen}.", nameof(corpus));
        if (options.SeqLen > model.Config.MaxPositions)
            throw new ArgumentException($"--seq-len {options.SeqLen} exceeds the model's max_position_embeddings {model.Config.MaxPositions}.", nameof(options));
        Model = model;
        _corpus = corpus;
        Options = options;
        TotalSteps = totalSteps;
        model.KeepActivationsForBackward = true;
        model.TrainBaseWeights = true;
        model.EnableGradients();
        model.EnsureCapacity(options.BatchSize, options.SeqLen);
        _adam = new AdamW(model.Parameters, new AdamWOptions
        {
            LearningRate = (float)options.LearningRate, Beta2 = options.Beta2, WeightDecay = options.WeightDecay,
        });
        _batch = new int[options.BatchSize * options.SeqLen];
    }

    public CausalLm Model { get; }
    public PretrainOptions Options { get; }

    /// <summary>Steps of the schedule (the cosine ends here).</summary>
    public int TotalSteps { get; set; }

    /// <summary>Steps done so far.</summary>
    public int Step { get; private set; }

    /// <summary>Training tokens consumed (rows × seqLen).</summary>
    public long TokensSeen => (long)Step * Options.BatchSize * Options.SeqLen;

    /// <summary>Loss of every step done so far.</summary>
    public IReadOnlyList<float> Losses => _losses;

    /// <summary>The command lines that produced this state, one per session (saved in checkpoints, shown in the model card).</summary>
    public List<string> CommandLines { get; } = [];

    /// <summary>Wall-clock seconds spent in training steps, over all resumed sessions.</summary>
    public double TrainingSeconds { get; set; }

    /// <summary>Learning rate and gradient norm (before clipping) of the last step.</summary>
    public double LastLearningRate { get; private set; }
    public double LastGradNorm { get; private set; }

    /// <summary>
    /// Fills the weights: every matrix and the embedding ~ N(0, 0.02²), the residual outputs (o_proj, down_proj)
    /// ~ N(0, (0.02/√(2L))²) as GPT-2, RMSNorm weights 1. Normals from SplitMix64(seed) by Box–Muller.
    /// </summary>
    public static void Initialize(CausalLm model, int seed)
    {
        var rng = new SplitMix64(0x5EED_0000_0000UL ^ (ulong)(uint)seed);
        double residualStd = 0.02 / Math.Sqrt(2.0 * model.Config.LayerCount);
        foreach (var p in model.Parameters)
        {
            var data = p.Data;
            if (p.Shape.Length == 1) { data.Fill(p.Name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1f : 0f); continue; }
            double std = p.Name.EndsWith("o_proj.weight", StringComparison.Ordinal) || p.Name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                ? residualStd : 0.02;
            for (int i = 0; i < data.Length; i++)
            {
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                data[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>The learning rate of a 0-based step under these options.</summary>
    public double LearningRateAt(int step) =>
        LearningRateSchedule.WarmupCosine(step, Options.LearningRate, Options.WarmupSteps, TotalSteps, Options.MinLrRatio);

    /// <summary>One optimisation step; returns its training loss (before the update).</summary>
    public float TrainStep()
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        _corpus.FillBatch(Step, Options.BatchSize, _batch);
        Model.ZeroGrad();
        float loss = Model.ForwardLoss(_batch, Options.BatchSize, Options.SeqLen);
        Model.Backward();
        LastGradNorm = GradientClipping.ClipByGlobalNorm(Model.Parameters, Options.ClipNorm);
        LastLearningRate = LearningRateAt(Step);
        _adam.Options = _adam.Options with { LearningRate = (float)LastLearningRate };
        _adam.Step();
        Step++;
        _losses.Add(loss);
        TrainingSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return loss;
    }

    /// <summary>Loss of the current weights on the batch of <paramref name="step"/> (no update).</summary>
    public float EvaluateBatch(long step)
    {
        _corpus.FillBatch(step, Options.BatchSize, _batch);
        return Model.ForwardLoss(_batch, Options.BatchSize, Options.SeqLen);
    }

    /// <summary>
    /// Writes a resumable checkpoint (one safetensors file: every weight under its HF name, AdamW moments as
    /// <c>optimizer.m</c>/<c>optimizer.v</c>, and metadata: step, total steps, AdamW step, seed, losses, seconds, the
    /// options). The data order needs no state beyond (seed, step). Written to PATH.tmp, then renamed over PATH, so a
    /// crash leaves the previous checkpoint intact.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        var tensors = Model.Parameters.Select(p => new TensorToWrite(p.Name, p.Shape, p.Memory)).ToList();
        int n = _adam.FirstMoments.Length;
        tensors.Add(new TensorToWrite("optimizer.m", [n], _adam.FirstMoments.ToArray()));
        tensors.Add(new TensorToWrite("optimizer.v", [n], _adam.SecondMoments.ToArray()));
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = CheckpointFormat,
            ["step"] = Step.ToString(inv),
            ["total_steps"] = TotalSteps.ToString(inv),
            ["adam_step"] = _adam.StepCount.ToString(inv),
            ["seed"] = Options.Seed.ToString(inv),
            ["training_seconds"] = TrainingSeconds.ToString("R", inv),
            ["losses"] = string.Join(",", _losses.Select(l => l.ToString("R", inv))),
            ["options"] = System.Text.Json.JsonSerializer.Serialize(Options),
            ["config"] = PretrainModels.ToConfigJson(Model.Config),
            ["command_lines"] = string.Join("\n", CommandLines),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        SafeTensorsWriter.Write(temp, tensors, metadata);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads the options stored in a checkpoint (to rebuild the corpus and the model before <see cref="LoadCheckpoint"/>).</summary>
    public static (PretrainOptions Options, ModelConfig Config, int TotalSteps) ReadCheckpointHeader(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        var m = file.Metadata;
        if (!m.TryGetValue("format", out var format) || format != CheckpointFormat)
            throw new InvalidDataException($"'{path}' is not a {CheckpointFormat} checkpoint.");
        var options = System.Text.Json.JsonSerializer.Deserialize<PretrainOptions>(m["options"])
            ?? throw new InvalidDataException($"Checkpoint '{path}' has no options.");
        return (options, ModelConfig.Parse(m["config"], path), int.Parse(m["total_steps"], CultureInfo.InvariantCulture));
    }

    /// <summary>Restores weights, AdamW moments and step, step count, losses and time from <see cref="SaveCheckpoint"/>'s file.</summary>
    public void LoadCheckpoint(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        var m = file.Metadata;
        if (!m.TryGetValue("format", out var format) || format != CheckpointFormat)
            throw new InvalidDataException($"'{path}' is not a {CheckpointFormat} checkpoint.");
        foreach (var p in Model.Parameters) file.ReadFloat32(p.Name, p.Data, p.Shape);
        int n = _adam.FirstMoments.Length;
        file.ReadFloat32("optimizer.m", _adam.FirstMoments, [n]);
        file.ReadFloat32("optimizer.v", _adam.SecondMoments, [n]);
        var inv = CultureInfo.InvariantCulture;
        _adam.RestoreStepCount(int.Parse(m["adam_step"], inv));
        Step = int.Parse(m["step"], inv);
        TotalSteps = int.Parse(m["total_steps"], inv);
        TrainingSeconds = double.Parse(m["training_seconds"], inv);
        _losses.Clear();
        if (m["losses"].Length > 0) _losses.AddRange(m["losses"].Split(',').Select(s => float.Parse(s, inv)));
        CommandLines.Clear();
        if (m.TryGetValue("command_lines", out var lines) && lines.Length > 0) CommandLines.AddRange(lines.Split('\n'));
    }

    /// <summary>Writes the weights as a Hugging Face model.safetensors (F32) plus config.json into <paramref name="directory"/>.</summary>
    public static void SaveModel(CausalLm model, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), PretrainModels.ToConfigJson(model.Config));
        string path = Path.Combine(directory, "model.safetensors");
        SafeTensorsWriter.Write(path + ".tmp", model.Parameters.Select(p => new TensorToWrite(p.Name, p.Shape, p.Memory)),
            new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
