using System.CommandLine;
using System.Diagnostics;
using Federated.Core.IO;
using Federated.Core.Kernels;
using Federated.Core.Models;
using Federated.Data;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated finetune`: centralised supervised fine-tuning (full or LoRA) of a model on one dataset, with the task
/// metrics before and after. On the built-in train split this is the upper bound that federated runs are compared with
/// (docs/data.md §Upper bound). The work is in <see cref="FineTuner"/>; outputs: a Hugging Face folder (full) or a PEFT
/// adapter (LoRA), and summary.json.
/// </summary>
internal static class FineTuneCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Base model folder (Hugging Face format). Default: the bundled models/wordnet-base." };
        var data = new Option<string>("--data") { Description = "Training data: builtin:train (the federated training split, all of it) or a JSONL file.", DefaultValueFactory = _ => "builtin:train" };
        var evalData = new Option<string>("--eval-data") { Description = "Evaluation data: builtin:test, builtin:validation or a JSONL file.", DefaultValueFactory = _ => "builtin:test" };
        var mode = new Option<string>("--mode") { Description = "full (every weight) or lora (adapter on --lora-targets, base frozen).", DefaultValueFactory = _ => "full" };
        var steps = new Option<int>("--steps") { Description = "Optimisation steps (the cosine schedule's length).", DefaultValueFactory = _ => 600 };
        var minutes = new Option<double>("--minutes") { Description = "Stop after this many minutes of training even if steps remain (0 = no limit)." };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => 8 };
        var lr = new Option<double?>("--lr") { Description = "Peak AdamW learning rate (default 3e-4 full, 2e-3 lora)." };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps before the cosine decay.", DefaultValueFactory = _ => 30 };
        var rank = new Option<int>("--lora-rank") { Description = "lora: rank r.", DefaultValueFactory = _ => 8 };
        var alpha = new Option<float>("--lora-alpha") { Description = "lora: α (scaling α/r).", DefaultValueFactory = _ => 16 };
        var targets = new Option<string>("--lora-targets") { Description = "lora: comma-separated projections to wrap.", DefaultValueFactory = _ => "q_proj,v_proj" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data order and LoRA's A.", DefaultValueFactory = _ => 42UL };
        var evalExamples = new Option<int>("--eval-examples") { Description = "Evaluation records scored for the loss (the first N).", DefaultValueFactory = _ => 500 };
        var generationExamples = new Option<int>("--generation-examples") { Description = "Generations per task for Rouge-L/accuracy (0 = skip).", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { Description = "Engine threads (default: all cores; results do not depend on it)." };
        var output = new Option<string>("--out") { Description = "Output folder: the fine-tuned model (full) or adapter/ (lora), and summary.json.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print summary.json's object (no progress bar)." };
        var command = new Command("finetune",
            "Fine-tune a model centrally on one dataset (full or LoRA) and score it before and after: the upper bound for federated runs.\n\n" +
            "Examples:\n  federated finetune --out runs/upper-full\n" +
            "  federated finetune --mode lora --steps 800 --lr 2e-3 --out runs/upper-lora --json\n" +
            "  federated eval --model runs/upper-full --data builtin:test --max-examples 500")
        {
            model, data, evalData, mode, steps, minutes, batch, lr, warmup, rank, alpha, targets, seed, evalExamples, generationExamples, threads, output, json,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is > 0 and var t) EngineThreads.Count = t;
            var fineTuneMode = parse.GetValue(mode) switch
            {
                "full" => FineTuneMode.Full,
                "lora" => FineTuneMode.Lora,
                var other => throw new ArgumentException($"--mode must be full or lora, got '{other}'."),
            };
            var options = new FineTuneOptions
            {
                Mode = fineTuneMode, Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr) ?? (fineTuneMode == FineTuneMode.Full ? 3e-4 : 2e-3),
                WarmupSteps = parse.GetValue(warmup), Seed = parse.GetValue(seed),
                LoraRank = parse.GetValue(rank), LoraAlpha = parse.GetValue(alpha),
                LoraTargets = [.. parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            };
            options.Validate();
            double maxMinutes = parse.GetValue(minutes);
            if (maxMinutes < 0) throw new ArgumentException($"--minutes must be ≥ 0, got {maxMinutes}.");
            int lossCount = parse.GetValue(evalExamples), genCount = parse.GetValue(generationExamples);
            if (lossCount < 1) throw new ArgumentException($"--eval-examples must be at least 1, got {lossCount}.");
            if (genCount < 0) throw new ArgumentException($"--generation-examples must be ≥ 0, got {genCount}.");
            string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
            string outDir = parse.GetValue(output)!;
            bool quiet = parse.GetValue(json);

            var (lm, tokenizer) = ModelLoading.Load(modelDir, null);
            var encoder = new ExampleEncoder(tokenizer, lm.Config.MaxPositions);
            var train = encoder.EncodeAll(BuiltinDataset.LoadByName(parse.GetValue(data)!).Records);
            var evalRecords = BuiltinDataset.LoadByName(parse.GetValue(evalData)!).Records;
            var evalOptions = new EvaluationOptions { MaxLossExamples = lossCount, MaxGenerationExamples = genCount };

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            EvaluationResult before, after;
            FineTuner tuner;
            var clock = new Stopwatch();
            double lastLoss = double.NaN;
            try
            {
                before = Evaluate(lm, encoder, evalRecords, evalOptions, "base model", quiet);
                tuner = new FineTuner(lm, train, options);
                Progress(quiet, "fine-tuning", options.Steps, report =>
                {
                    clock.Start();
                    double lossSum = 0;
                    int lossCountWindow = 0;
                    while (tuner.Step < options.Steps && !cancel.IsCancellationRequested
                           && (maxMinutes == 0 || clock.Elapsed.TotalMinutes < maxMinutes))
                    {
                        lossSum += tuner.TrainStep();
                        lossCountWindow++;
                        if (lossCountWindow == 20 || tuner.Step == options.Steps)
                        {
                            lastLoss = lossSum / lossCountWindow;
                            lossSum = 0;
                            lossCountWindow = 0;
                        }
                        report(tuner.Step, $"step {tuner.Step}/{options.Steps} loss {lastLoss:F3}");
                    }
                    clock.Stop();
                });
                lm.KeepActivationsForBackward = false;
                after = Evaluate(lm, encoder, evalRecords, evalOptions, "fine-tuned model", quiet);
            }
            finally { Console.CancelKeyPress -= onCancel; }

            Directory.CreateDirectory(outDir);
            var saved = Save(lm, tuner, modelDir, outDir);
            var summary = new
            {
                Mode = fineTuneMode.ToString().ToLowerInvariant(), Data = parse.GetValue(data), EvalData = parse.GetValue(evalData),
                tuner.Step, options.Steps, Completed = tuner.Step == options.Steps, options.BatchSize, options.LearningRate,
                tuner.TrainableElements, TrainingSeconds = clock.Elapsed.TotalSeconds, FinalTrainLoss = lastLoss,
                Base = Quality(before), Final = Quality(after), Saved = saved,
            };
            JsonOutput.WriteFile(Path.Combine(outDir, "summary.json"), summary);
            if (quiet) { JsonOutput.Write(summary); return CliRunner.Ok; }

            var table = new Table().AddColumn("").AddColumn(new TableColumn("base").RightAligned()).AddColumn(new TableColumn("fine-tuned").RightAligned());
            table.AddRow($"loss ({after.Examples} records)", $"{before.Loss:F4}", $"{after.Loss:F4}");
            table.AddRow("Rouge-L", $"{before.RougeL:F4}", $"{after.RougeL:F4}");
            table.AddRow("accuracy", $"{before.Accuracy:F4}", $"{after.Accuracy:F4}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{tuner.Step}/{options.Steps} steps of {options.BatchSize} in {clock.Elapsed.TotalMinutes:F1} min; saved to {Markup.Escape(saved)}");
            return CliRunner.Ok;
        });
        return command;
    }

    private static object Quality(EvaluationResult r) => new { EvalLoss = r.Loss, RougeL = r.RougeL, r.Accuracy, r.Examples };

    private static EvaluationResult Evaluate(CausalLm lm, ExampleEncoder encoder, IReadOnlyList<InstructionExample> records,
        EvaluationOptions options, string label, bool quiet)
    {
        lm.KeepActivationsForBackward = false;
        EvaluationResult result = default!;
        Progress(quiet, $"evaluate {label}", 1, report =>
            result = TaskEvaluator.Evaluate(lm, encoder, records, options, (done, total) => report(done / (double)total, null)));
        return result;
    }

    /// <summary>Runs <paramref name="work"/> under a progress bar (or silently when <paramref name="quiet"/>); the work
    /// reports (value out of <paramref name="max"/>, optional new description).</summary>
    private static void Progress(bool quiet, string description, double max, Action<Action<double, string?>> work)
    {
        if (quiet) { work((_, _) => { }); return; }
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: max);
                work((value, text) => { task.Value = value; if (text is not null) task.Description = Markup.Escape(text); });
            });
    }

    /// <summary>Full: a Hugging Face folder (weights + the base model's config and tokenizer files). LoRA: OUT/adapter.</summary>
    private static string Save(CausalLm lm, FineTuner tuner, string baseDir, string outDir)
    {
        if (tuner.Adapter is { } adapter)
        {
            string adapterDir = Path.Combine(outDir, "adapter");
            adapter.Save(adapterDir);
            return adapterDir;
        }
        ModelFolder.Write(lm, baseDir, outDir);
        return outDir;
    }
}
