using System.CommandLine;
using Federated.Core.Kernels;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated eval`: the task metrics of a model (optionally with a LoRA adapter) on a dataset, via
/// <see cref="TaskEvaluator"/>: response-only loss, Rouge-L of greedy generations, exact-match accuracy for "category".
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Hugging Face model folder (config.json, *.safetensors, tokenizer.json). Default: the bundled models/wordnet-base." };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) applied on top." };
        var compare = new Option<string?>("--compare") { Description = "Base model folder to compare with: both are scored on the same records and generations, and the paired differences (model − base) are reported with standard errors, t and a 95% interval." };
        var compareAdapter = new Option<string?>("--compare-adapter") { Description = "PEFT LoRA adapter applied on top of the --compare model (default: none)." };
        var data = new Option<string>("--data") { Description = "builtin:test, builtin:validation, builtin:SPLIT or a JSONL(.gz) file.", DefaultValueFactory = _ => "builtin:test" };
        var maxExamples = new Option<int>("--max-examples") { Description = "Score the loss on the first N records (0 = all); generations: the first min(N, 64) of each task." };
        var generations = new Option<int?>("--generation-examples") { Description = "Greedy generations per task for Rouge-L/accuracy (default min(--max-examples, 64); 0 = skip)." };
        var samples = new Option<int>("--samples") { Description = "Show K generations next to their references." };
        var threads = new Option<int>("--threads") { Description = "Engine threads (default: all cores; results do not depend on it)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {loss, rouge_l, accuracy, examples[, compare: {base, delta}]}." };
        var command = new Command("eval",
            "Score a model on a dataset: response loss, Rouge-L (definitions) and exact-match accuracy (categories).\n" +
            "With --compare BASE, score BASE on the same records too and report the paired differences model − base\n" +
            "(loss token-weighted; mean, standard error, paired t, 95% interval; docs/base-model.md §Evaluation).\n\n" +
            "Examples:\n  federated eval --model models/wordnet-base --data builtin:test --max-examples 500\n" +
            "  federated eval --model models/wordnet-base --adapter runs/sim/adapter --data builtin:validation --samples 5 --json\n" +
            "  federated eval --model runs/sim/model --compare models/wordnet-base --max-examples 500 --generation-examples 300")
        {
            model, adapter, compare, compareAdapter, data, maxExamples, generations, samples, threads, json,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is > 0 and var t) EngineThreads.Count = t;
            int max = parse.GetValue(maxExamples), sampleCount = parse.GetValue(samples);
            if (max < 0) throw new ArgumentException($"--max-examples must be ≥ 0, got {max}.");
            if (sampleCount < 0) throw new ArgumentException($"--samples must be ≥ 0, got {sampleCount}.");
            if (parse.GetValue(generations) is < 0 and var g) throw new ArgumentException($"--generation-examples must be ≥ 0, got {g}.");
            string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
            string? adapterDir = parse.GetValue(adapter), compareDir = parse.GetValue(compare), compareAdapterDir = parse.GetValue(compareAdapter);
            if (compareAdapterDir is not null && compareDir is null) throw new ArgumentException("--compare-adapter needs --compare BASE_MODEL_DIR.");
            CheckFolders(modelDir, adapterDir, compareDir, compareAdapterDir);
            string dataName = parse.GetValue(data)!;
            var examples = BuiltinDataset.LoadByName(dataName).Records;
            var options = new EvaluationOptions
            {
                MaxLossExamples = max,
                MaxGenerationExamples = parse.GetValue(generations) ?? (max > 0 ? Math.Min(max, 64) : 64),
                SampleCount = sampleCount,
            };

            // One model in memory at a time: the model, then (with --compare) the base on the same records.
            var runs = new List<(string Label, string Model, string? Adapter)> { ("model", modelDir, adapterDir) };
            if (compareDir is not null) runs.Add(("base", compareDir, compareAdapterDir));
            var evaluations = new DetailedEvaluation[runs.Count];
            if (parse.GetValue(json))
                for (int i = 0; i < runs.Count; i++) evaluations[i] = Evaluate(runs[i].Model, runs[i].Adapter, examples, options, null);
            else
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        for (int i = 0; i < runs.Count; i++)
                        {
                            var task = ctx.AddTask($"eval {runs[i].Label} {Markup.Escape(dataName)}", maxValue: 1);
                            evaluations[i] = Evaluate(runs[i].Model, runs[i].Adapter, examples, options, (done, total) => { task.MaxValue = total; task.Value = done; });
                        }
                    });
            var result = evaluations[0].Result;
            var baseline = compareDir is not null ? evaluations[1].Result : null;
            var delta = compareDir is not null ? TaskEvaluator.Compare(evaluations[0], evaluations[1]) : null;

            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    result.Loss, RougeL = result.RougeL, result.Accuracy, result.Examples,
                    Samples = sampleCount > 0 ? result.Samples.Select(s => new { s.Task, s.Reference, s.Generated }) : null,
                    Compare = baseline is null || delta is null ? null : new
                    {
                        Base = new { baseline.Loss, RougeL = baseline.RougeL, baseline.Accuracy, baseline.Examples },
                        Delta = delta,
                    },
                });
                return CliRunner.Ok;
            }
            if (result.Samples.Count > 0)
            {
                var sampleTable = new Table().AddColumn("task").AddColumn("prompt").AddColumn("reference").AddColumn("generated");
                foreach (var s in result.Samples)
                {
                    string instruction = s.Prompt.Split("### Instruction:\n").Last().Split("\n\n").First();
                    sampleTable.AddRow(Markup.Escape(s.Task), Markup.Escape(instruction), Markup.Escape(s.Reference), Markup.Escape(s.Generated));
                }
                AnsiConsole.Write(sampleTable);
            }
            AnsiConsole.Write(baseline is null || delta is null ? MetricTable(result) : ComparisonTable(result, baseline, delta));
            return CliRunner.Ok;
        });
        return command;
    }

    private static void CheckFolders(string modelDir, string? adapterDir, string? compareDir, string? compareAdapterDir)
    {
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder '{modelDir}' does not exist.");
        if (adapterDir is not null && !Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"Adapter folder '{adapterDir}' does not exist.");
        if (compareDir is not null && !Directory.Exists(compareDir)) throw new DirectoryNotFoundException($"--compare model folder '{compareDir}' does not exist.");
        if (compareAdapterDir is not null && !Directory.Exists(compareAdapterDir)) throw new DirectoryNotFoundException($"--compare-adapter folder '{compareAdapterDir}' does not exist.");
    }

    /// <summary>Loads a model (and adapter) with its own tokenizer and scores it, keeping every example's score.</summary>
    private static DetailedEvaluation Evaluate(string modelDir, string? adapterDir, IReadOnlyList<InstructionExample> examples,
        EvaluationOptions options, Action<int, int>? progress)
    {
        var (lm, tokenizer) = ModelLoading.Load(modelDir, adapterDir);
        var encoder = new ExampleEncoder(tokenizer, lm.Config.MaxPositions);
        return TaskEvaluator.EvaluateDetailed(lm, encoder, examples, options, progress);
    }

    private static Table MetricTable(EvaluationResult result)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("loss (response tokens)", $"{result.Loss:F4}");
        table.AddRow("Rouge-L", Format(result.RougeL));
        table.AddRow("accuracy (category)", Format(result.Accuracy));
        table.AddRow("examples", result.Examples.ToString());
        return table;
    }

    /// <summary>Model, base and the paired difference per metric: mean ± se, t, 95% interval, n.</summary>
    private static Table ComparisonTable(EvaluationResult result, EvaluationResult baseline, EvaluationComparison delta)
    {
        var table = new Table().AddColumn("metric")
            .Caption("Δ = model − base, paired over the same examples (loss: token-weighted); SE = sd/√n; t with n − 1 d.f.");
        foreach (var name in new[] { "model", "base", "Δ", "SE", "t", "95% CI", "n" })
            table.AddColumn(new TableColumn(name).RightAligned());
        AddRow(table, "loss", result.Loss, baseline.Loss, delta.Loss);
        AddRow(table, "Rouge-L", result.RougeL, baseline.RougeL, delta.RougeL);
        AddRow(table, "accuracy", result.Accuracy, baseline.Accuracy, delta.Accuracy);
        return table;
    }

    private static void AddRow(Table table, string metric, double? model, double? baseline, PairedDifference? d)
    {
        if (d is null) { table.AddRow(metric, Format(model), Format(baseline), "n/a", "", "", "", "0"); return; }
        table.AddRow(metric, Format(model), Format(baseline), $"{d.Mean:+0.0000;-0.0000;0.0000}", $"{d.StandardError:F4}", $"{d.T:F2}",
            Markup.Escape($"[{d.Lower95:F4}, {d.Upper95:F4}]"), d.Count.ToString());
    }

    private static string Format(double? value) => value is double v ? $"{v:F4}" : "n/a";
}
