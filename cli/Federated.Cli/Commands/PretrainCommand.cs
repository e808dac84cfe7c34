using System.CommandLine;
using Federated.Core.Kernels;
using Federated.Data.Pretraining;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated pretrain`: trains the built-in base model (tokenizer + LLaMA-style model) from the WordNet pretraining
/// split and writes a Hugging Face folder with a model card. The work is in <see cref="PretrainRun"/>.
/// </summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (Hugging Face format; checkpoint/ holds the resumable state).", Required = true };
        var minutes = new Option<double>("--minutes") { Description = "Wall-clock budget for training; without --steps it also sets the schedule's length." };
        var steps = new Option<int>("--steps") { Description = "Total optimisation steps (length of the cosine schedule)." };
        var config = new Option<string>("--config") { Description = "Model shape: tiny, small (256 wide, 4 layers) or a config.json file.", DefaultValueFactory = _ => "small" };
        var vocab = new Option<int>("--vocab-size") { Description = "BPE vocabulary size (bytes + merges + 2 special tokens).", DefaultValueFactory = _ => 4096 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per packed training row.", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch-size") { Description = "Rows per step.", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW).", DefaultValueFactory = _ => 3e-3 };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps before the cosine decay.", DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights and the data order.", DefaultValueFactory = _ => 1234 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints (0 = only at the end).", DefaultValueFactory = _ => 100 };
        var resume = new Option<bool>("--resume") { Description = "Continue from --out/checkpoint (its options win, except --minutes)." };
        var evalExamples = new Option<int>("--eval-examples") { Description = "Test records scored for the model card's loss.", DefaultValueFactory = _ => 500 };
        var threads = new Option<int>("--threads") { Description = "Engine threads (default: all cores; results do not depend on it)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (no progress bar)." };
        var command = new Command("pretrain",
            "Train the built-in base model: a byte-level BPE tokenizer and a small LLaMA-style model on the WordNet pretraining split.\n\n" +
            "Examples:\n  federated pretrain --out models/wordnet-base --minutes 20\n" +
            "  federated pretrain --out runs/tiny --config tiny --steps 50 --json\n" +
            "  federated pretrain --out models/wordnet-base --resume --minutes 5")
        {
            output, minutes, steps, config, vocab, seqLen, batch, lr, warmup, seed, checkpointEvery, resume, evalExamples, threads, json,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is > 0 and var t) EngineThreads.Count = t;
            var options = new PretrainOptions
            {
                Config = parse.GetValue(config)!, VocabSize = parse.GetValue(vocab), SeqLen = parse.GetValue(seqLen),
                BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), WarmupSteps = parse.GetValue(warmup),
                Steps = parse.GetValue(steps), MaxMinutes = parse.GetValue(minutes), Seed = parse.GetValue(seed),
                CheckpointEvery = parse.GetValue(checkpointEvery),
            };
            bool resuming = parse.GetValue(resume);
            if (resuming && options.Steps == 0 && options.MaxMinutes == 0) options = options with { MaxMinutes = 1e9 };
            int evalCount = parse.GetValue(evalExamples);
            if (evalCount < 1) throw new ArgumentException($"--eval-examples must be at least 1, got {evalCount}.");
            string outDir = parse.GetValue(output)!;
            string commandLine = "federated " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1).Select(Quote));

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            PretrainReport report;
            try
            {
                if (parse.GetValue(json))
                    report = PretrainRun.Run(outDir, options, resuming, commandLine, evalCount, null, cancel.Token);
                else
                    report = AnsiConsole.Progress()
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                        .Start(ctx =>
                        {
                            var task = ctx.AddTask("starting", maxValue: 1);
                            task.IsIndeterminate = true;
                            return PretrainRun.Run(outDir, options, resuming, commandLine, evalCount, p =>
                            {
                                if (p.Phase != "training") { task.Description = p.Phase; return; }
                                if (p.TotalSteps > 0) { task.IsIndeterminate = false; task.MaxValue = p.TotalSteps; task.Value = p.Step; }
                                task.Description = $"step {p.Step}/{(p.TotalSteps > 0 ? p.TotalSteps : "?")} loss {p.Loss:F3} {p.TokensPerSecond:F0} tok/s";
                            }, cancel.Token);
                        });
            }
            finally { Console.CancelKeyPress -= onCancel; }

            var e = report.Evaluation;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    Out = report.Directory, report.Parameters, report.ModelBytes, report.Steps, report.TotalSteps, report.TokensSeen,
                    report.TrainingSeconds, report.FinalTrainLoss, report.Completed, report.UnigramLoss,
                    Eval = new { e.Loss, RougeL = e.RougeL, e.Accuracy, e.Examples },
                });
                return CliRunner.Ok;
            }
            var table = new Table().AddColumn("").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("folder", Markup.Escape(report.Directory));
            table.AddRow("parameters", $"{report.Parameters:N0} ({report.ModelBytes / 1e6:F1} MB)");
            table.AddRow("steps", $"{report.Steps}/{report.TotalSteps}{(report.Completed ? "" : " (stopped early; --resume continues)")}");
            table.AddRow("tokens seen", $"{report.TokensSeen:N0}");
            table.AddRow("training time", $"{report.TrainingSeconds / 60:F1} min");
            table.AddRow("final train loss", $"{report.FinalTrainLoss:F3}");
            table.AddRow($"test loss ({e.Examples} records)", $"{e.Loss:F3} (unigram {report.UnigramLoss:F3})");
            table.AddRow("test Rouge-L / accuracy", $"{e.RougeL:F3} / {e.Accuracy:F3}");
            AnsiConsole.Write(table);
            return CliRunner.Ok;
        });
        return command;
    }

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(char.IsWhiteSpace) ? arg : $"\"{arg}\"";
}
