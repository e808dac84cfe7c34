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
        var data = new Option<string>("--data") { Description = "builtin:test, builtin:validation, builtin:SPLIT or a JSONL(.gz) file.", DefaultValueFactory = _ => "builtin:test" };
        var maxExamples = new Option<int>("--max-examples") { Description = "Score the loss on the first N records (0 = all); generations: the first min(N, 64) of each task." };
        var generations = new Option<int?>("--generation-examples") { Description = "Greedy generations per task for Rouge-L/accuracy (default min(--max-examples, 64); 0 = skip)." };
        var samples = new Option<int>("--samples") { Description = "Show K generations next to their references." };
        var threads = new Option<int>("--threads") { Description = "Engine threads (default: all cores; results do not depend on it)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {loss, rouge_l, accuracy, examples}." };
        var command = new Command("eval",
            "Score a model on a dataset: response loss, Rouge-L (definitions) and exact-match accuracy (categories).\n\n" +
            "Examples:\n  federated eval --model models/wordnet-base --data builtin:test --max-examples 500\n" +
            "  federated eval --model models/wordnet-base --adapter runs/sim/adapter --data builtin:validation --samples 5 --json")
        {
            model, adapter, data, maxExamples, generations, samples, threads, json,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is > 0 and var t) EngineThreads.Count = t;
            int max = parse.GetValue(maxExamples), sampleCount = parse.GetValue(samples);
            if (max < 0) throw new ArgumentException($"--max-examples must be ≥ 0, got {max}.");
            if (sampleCount < 0) throw new ArgumentException($"--samples must be ≥ 0, got {sampleCount}.");
            if (parse.GetValue(generations) is < 0 and var g) throw new ArgumentException($"--generation-examples must be ≥ 0, got {g}.");
            string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
            if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder '{modelDir}' does not exist.");
            var lm = CausalLm.Load(modelDir);
            lm.KeepActivationsForBackward = false;
            var tokenizer = HfTokenizer.Load(modelDir);
            if (parse.GetValue(adapter) is { } adapterDir)
            {
                if (!Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"Adapter folder '{adapterDir}' does not exist.");
                lm.AttachAdapter(LoraAdapter.Load(lm, adapterDir));
            }
            string dataName = parse.GetValue(data)!;
            var examples = BuiltinDataset.LoadByName(dataName).Records;
            var encoder = new ExampleEncoder(tokenizer, lm.Config.MaxPositions);
            var options = new EvaluationOptions
            {
                MaxLossExamples = max,
                MaxGenerationExamples = parse.GetValue(generations) ?? (max > 0 ? Math.Min(max, 64) : 64),
                SampleCount = sampleCount,
            };

            EvaluationResult result;
            if (parse.GetValue(json))
                result = TaskEvaluator.Evaluate(lm, encoder, examples, options);
            else
                result = AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"eval {Markup.Escape(dataName)}", maxValue: 1);
                        return TaskEvaluator.Evaluate(lm, encoder, examples, options, (done, total) => { task.MaxValue = total; task.Value = done; });
                    });

            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    result.Loss, RougeL = result.RougeL, result.Accuracy, result.Examples,
                    Samples = sampleCount > 0 ? result.Samples.Select(s => new { s.Task, s.Reference, s.Generated }) : null,
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
            var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("loss (response tokens)", $"{result.Loss:F4}");
            table.AddRow("Rouge-L", result.RougeL is double r ? $"{r:F4}" : "n/a");
            table.AddRow("accuracy (category)", result.Accuracy is double a ? $"{a:F4}" : "n/a");
            table.AddRow("examples", result.Examples.ToString());
            AnsiConsole.Write(table);
            return CliRunner.Ok;
        });
        return command;
    }
}
