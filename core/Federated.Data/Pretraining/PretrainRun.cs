using System.Diagnostics;
using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Federated.Data.WordNet;

namespace Federated.Data.Pretraining;

/// <summary>Progress of a pretraining run (for progress bars).</summary>
public sealed record PretrainProgress(string Phase, int Step, int TotalSteps, float Loss, double TokensPerSecond);

/// <summary>What `federated pretrain` produced.</summary>
public sealed record PretrainReport(
    string Directory, long Parameters, long ModelBytes, int Steps, int TotalSteps, long TokensSeen, double TrainingSeconds,
    double FinalTrainLoss, double UnigramLoss, double UnigramLossAllTest, EvaluationResult Evaluation, bool Completed,
    IReadOnlyList<(int Step, double Loss)> LossCurve);

/// <summary>
/// The whole `federated pretrain` pipeline: tokenizer (byte-level BPE on the pretraining split's formatted texts),
/// model (LLaMA-style, tied embeddings), training with resumable checkpoints, the Hugging Face folder, the test-split
/// evaluation against the unigram baseline, and the model card. The training and validation/test splits are never read
/// for training (only the test split, for the final scores).
/// </summary>
public static class PretrainRun
{
    /// <summary>Checkpoint file inside the output folder.</summary>
    public static string CheckpointPath(string directory) => Path.Combine(directory, "checkpoint", "state.safetensors");

    public static PretrainReport Run(string directory, PretrainOptions options, bool resume, string commandLine,
        int evalExamples, Action<PretrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var pretrain = BuiltinDataset.Load(DataSplit.Pretrain).Records;
        string checkpoint = CheckpointPath(directory);
        HfTokenizer tokenizer;
        ModelConfig config;
        int totalSteps;
        bool resumed = resume && File.Exists(checkpoint);
        if (resume && !resumed) throw new FileNotFoundException($"--resume: there is no checkpoint at {checkpoint}.", checkpoint);
        if (resumed)
        {
            progress?.Invoke(new PretrainProgress("resuming", 0, 0, float.NaN, 0));
            var (saved, savedConfig, savedTotal) = Pretrainer.ReadCheckpointHeader(checkpoint);
            options = saved with { MaxMinutes = options.MaxMinutes, CheckpointEvery = options.CheckpointEvery };
            config = savedConfig;
            totalSteps = savedTotal;
            tokenizer = HfTokenizer.Load(directory);
        }
        else
        {
            progress?.Invoke(new PretrainProgress("tokenizer", 0, 0, float.NaN, 0));
            string json = PretrainCorpus.TrainTokenizer(pretrain, options.VocabSize);
            tokenizer = PretrainCorpus.WriteTokenizer(directory, json, Math.Max(options.SeqLen, 256));
            int eos = tokenizer.EosId!.Value;
            int pad = tokenizer.PadId ?? eos;
            config = PretrainModels.Resolve(options.Config, tokenizer.VocabSize, eos, pad, options.SeqLen);
            totalSteps = options.Steps > 0 ? options.Steps : int.MaxValue;
        }

        progress?.Invoke(new PretrainProgress("tokenizing", 0, 0, float.NaN, 0));
        var corpus = PretrainCorpus.Create(pretrain, tokenizer, options.SeqLen, options.Seed);
        var model = new CausalLm(config);
        if (!resumed) Pretrainer.Initialize(model, options.Seed);
        var trainer = new Pretrainer(model, corpus, options, totalSteps);
        if (resumed) trainer.LoadCheckpoint(checkpoint);
        trainer.CommandLines.Add(commandLine);

        Train(trainer, options, clock, checkpoint, progress, cancellationToken);
        trainer.SaveCheckpoint(checkpoint);
        Pretrainer.SaveModel(model, directory);

        // Final scores on the test split (first evalExamples records for the loss; 64 generations per task).
        progress?.Invoke(new PretrainProgress("evaluating", trainer.Step, trainer.TotalSteps, float.NaN, 0));
        model.KeepActivationsForBackward = false;
        var test = BuiltinDataset.Load(DataSplit.Test).Records;
        var encoder = new ExampleEncoder(tokenizer, config.MaxPositions);
        var evaluation = TaskEvaluator.Evaluate(model, encoder, test,
            new EvaluationOptions { MaxLossExamples = evalExamples, MaxGenerationExamples = 64, SampleCount = 6 });
        var counts = corpus.TokenCounts(config.VocabSize);
        double unigram = UnigramBaseline.Loss(counts, encoder, test.Take(evaluation.Examples));
        double unigramAll = UnigramBaseline.Loss(counts, encoder, test);

        var losses = trainer.Losses;
        double finalLoss = losses.Count == 0 ? double.NaN : losses.Skip(Math.Max(0, losses.Count - 20)).Average();
        var report = new PretrainReport(
            Path.GetFullPath(directory), CausalLm.CountParameters(config), new FileInfo(Path.Combine(directory, "model.safetensors")).Length,
            trainer.Step, trainer.TotalSteps, trainer.TokensSeen, trainer.TrainingSeconds, finalLoss, unigram, unigramAll, evaluation,
            trainer.Step >= trainer.TotalSteps, LossCurve(losses, 10));
        File.WriteAllText(Path.Combine(directory, "README.md"), ModelCard.Write(report, options, config, tokenizer, corpus, string.Join("\n", trainer.CommandLines), evalExamples));
        return report;
    }

    private static void Train(Pretrainer trainer, PretrainOptions options, Stopwatch clock, string checkpoint,
        Action<PretrainProgress>? progress, CancellationToken cancellationToken)
    {
        double budget = options.MaxMinutes > 0 ? options.MaxMinutes * 60 : double.PositiveInfinity;
        bool calibrate = trainer.TotalSteps == int.MaxValue;
        int calibrationSteps = Math.Clamp(options.WarmupSteps, 2, 6);
        int sessionSteps = 0;
        var session = Stopwatch.StartNew();
        double afterFirstStep = 0;
        long tokensPerStep = (long)options.BatchSize * options.SeqLen;
        while (trainer.Step < trainer.TotalSteps && clock.Elapsed.TotalSeconds < budget && !cancellationToken.IsCancellationRequested)
        {
            float loss = trainer.TrainStep();
            sessionSteps++;
            if (sessionSteps == 1) afterFirstStep = session.Elapsed.TotalSeconds;
            if (calibrate && sessionSteps == calibrationSteps)
            {
                // --minutes without --steps: fix the schedule's length from the measured step time (first step excluded: JIT).
                double perStep = (session.Elapsed.TotalSeconds - afterFirstStep) / (sessionSteps - 1);
                double remaining = budget - clock.Elapsed.TotalSeconds;
                trainer.TotalSteps = Math.Max(trainer.Step + 1, trainer.Step + (int)(0.92 * remaining / perStep));
                calibrate = false;
            }
            double tokensPerSecond = sessionSteps * tokensPerStep / Math.Max(1e-9, session.Elapsed.TotalSeconds);
            progress?.Invoke(new PretrainProgress("training", trainer.Step, calibrate ? 0 : trainer.TotalSteps, loss, tokensPerSecond));
            if (options.CheckpointEvery > 0 && trainer.Step % options.CheckpointEvery == 0 && trainer.Step < trainer.TotalSteps)
                trainer.SaveCheckpoint(checkpoint);
        }
        if (trainer.TotalSteps == int.MaxValue) trainer.TotalSteps = trainer.Step; // stopped before calibration
    }

    /// <summary>Mean loss over <paramref name="points"/> equal windows of the steps (step = window end).</summary>
    public static IReadOnlyList<(int Step, double Loss)> LossCurve(IReadOnlyList<float> losses, int points)
    {
        var curve = new List<(int, double)>();
        if (losses.Count == 0) return curve;
        points = Math.Min(points, losses.Count);
        for (int k = 1; k <= points; k++)
        {
            int from = (int)((long)(k - 1) * losses.Count / points), to = (int)((long)k * losses.Count / points);
            double sum = 0;
            for (int i = from; i < to; i++) sum += losses[i];
            curve.Add((to, sum / Math.Max(1, to - from)));
        }
        return curve;
    }
}
