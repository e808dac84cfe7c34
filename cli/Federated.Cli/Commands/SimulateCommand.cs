using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Federated.Cli.Plotting;
using Federated.Simulation;
using Federated.Simulation.FedKSeed;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated simulate`: a whole federation in one process (the real server strategy and client trainer), with
/// metrics.jsonl, summary.json and a loss plot in --out. The bare command is the README's quick start.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var d = new FedKSeedSimulationOptions { ModelDirectory = "" };
        var method = new Option<string>("--method") { Description = "fedkseed (zeroth-order, seeds and scalars).", DefaultValueFactory = _ => "fedkseed" };
        var model = new Option<string?>("--model") { Description = $"Base model folder (Hugging Face format). Default: the bundled {BuiltinModel.RelativePath}." };
        var data = new Option<string>("--data") { Description = "Client data: builtin (WordNet train split) or a JSONL file.", DefaultValueFactory = _ => d.Data };
        var evalData = new Option<string>("--eval-data") { Description = "Evaluation data: builtin:test, builtin:validation or a JSONL file.", DefaultValueFactory = _ => d.EvalData };
        var clients = new Option<int>("--clients") { Description = "Simulated clients N.", DefaultValueFactory = _ => d.Clients };
        var perRound = new Option<int>("--clients-per-round") { Description = "Clients per round M.", DefaultValueFactory = _ => d.ClientsPerRound };
        var rounds = new Option<int>("--rounds") { Description = "Rounds R.", DefaultValueFactory = _ => d.Rounds };
        var seeds = new Option<int>("--seeds") { Description = "Candidate seeds K.", DefaultValueFactory = _ => d.Seeds };
        var steps = new Option<int>("--local-steps") { Description = "Zeroth-order steps per client per round τ (batch 1).", DefaultValueFactory = _ => d.LocalSteps };
        var epsilon = new Option<float>("--epsilon") { Description = "Perturbation scale ε.", DefaultValueFactory = _ => d.Epsilon };
        var lr = new Option<float>("--lr") { Description = "Learning rate η (constant).", DefaultValueFactory = _ => d.LearningRate };
        var partition = new Option<string>("--partition") { Description = "iid | dirichlet:α | categories:k | quantity:σ [+holdout:CAT,…] (docs/data.md).", DefaultValueFactory = _ => d.Partition };
        var pro = new Option<bool>("--pro") { Description = "FedKSeed-Pro: seed probabilities from the history of |g|." };
        var trainable = new Option<string?>("--trainable") { Description = "Regex over parameter names to train (default all), e.g. 'self_attn|mlp'." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the seed pool and of every random choice.", DefaultValueFactory = _ => d.Seed };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate the global model's loss every E rounds.", DefaultValueFactory = _ => d.EvalEvery };
        var evalExamples = new Option<int>("--eval-examples") { Description = "Examples scored for the evaluation loss.", DefaultValueFactory = _ => d.EvalExamples };
        var genExamples = new Option<int>("--generation-examples") { Description = "Examples generated per task for Rouge-L/accuracy (base and final; 0 = skip).", DefaultValueFactory = _ => d.GenerationExamples };
        var threads = new Option<int>("--threads") { Description = "Engine threads (results do not depend on it).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/<method>-<time>)." };
        var json = new Option<bool>("--json") { Description = "Print summary.json's object on stdout." };
        var command = new Command("simulate",
            "Simulate a federation in one process with the real server and client code.\n\n" +
            "Examples:\n  federated simulate\n" +
            "  federated simulate --clients 200 --clients-per-round 10 --rounds 20 --seeds 4096 --local-steps 200 --partition dirichlet:0.5 --json\n" +
            "  federated simulate --clients 1000 --rounds 2 --local-steps 20 --out runs/scale")
        {
            method, model, data, evalData, clients, perRound, rounds, seeds, steps, epsilon, lr, partition, pro, trainable, seed,
            evalEvery, evalExamples, genExamples, threads, output, json,
        };
        command.SetAction(parse =>
        {
            if (!string.Equals(parse.GetValue(method), "fedkseed", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--method '{parse.GetValue(method)}' is not available yet; use fedkseed.");
            if (parse.GetValue(pro)) throw new NotSupportedException("--pro is not available yet in the simulator.");
            EngineSettings.Apply(parse.GetValue(threads));
            var options = new FedKSeedSimulationOptions
            {
                ModelDirectory = BuiltinModel.Resolve(parse.GetValue(model)), Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                Clients = parse.GetValue(clients), ClientsPerRound = parse.GetValue(perRound), Rounds = parse.GetValue(rounds),
                Seeds = parse.GetValue(seeds), LocalSteps = parse.GetValue(steps), Epsilon = parse.GetValue(epsilon), LearningRate = parse.GetValue(lr),
                Partition = parse.GetValue(partition)!, Pro = parse.GetValue(pro), Trainable = parse.GetValue(trainable), Seed = parse.GetValue(seed),
                EvalEvery = parse.GetValue(evalEvery), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
            };
            options.Validate();
            var outDir = parse.GetValue(output) ?? Path.Combine("runs", $"fedkseed-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            return Run(options, outDir, parse.GetValue(json));
        });
        return command;
    }

    private static int Run(FedKSeedSimulationOptions options, string outDir, bool json)
    {
        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.MarkupLine($"[bold]FedKSeed simulation[/]: {options.Clients} clients, {options.ClientsPerRound} per round, {options.Rounds} rounds, " +
                           $"K={options.Seeds}, τ={options.LocalSteps}, ε={options.Epsilon:G3}, η={options.LearningRate:G3}, partition {Markup.Escape(options.Partition)}");
        var simulation = new FedKSeedSimulation(options);
        console.MarkupLine($"model [blue]{Markup.Escape(options.ModelDirectory)}[/] · {simulation.TrainableElements:N0} trainable parameters · out [blue]{Markup.Escape(outDir)}[/]");

        var metrics = new List<RoundMetrics>();
        ModelQuality? baseQuality = null, finalQuality = null;
        using var log = new StreamWriter(Path.Combine(outDir, "metrics.jsonl"));
        console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var evalTask = ctx.AddTask("base model: evaluate", maxValue: 1);
                baseQuality = simulation.Evaluate(generate: options.GenerationExamples > 0, (done, total) => { evalTask.MaxValue = total; evalTask.Value = done; });
                evalTask.Description = $"base model: loss {baseQuality.EvalLoss:F3}{Quality(baseQuality)}";
                var base0 = new RoundMetrics(0, 0, null, baseQuality.EvalLoss, baseQuality.RougeL, baseQuality.Accuracy, 0, 0, 0, 0, 0);
                metrics.Add(base0);
                log.WriteLine(Serialize(base0));
                var roundsTask = ctx.AddTask("rounds", maxValue: options.Rounds);
                for (int r = 1; r <= options.Rounds; r++)
                {
                    int round = r;
                    var m = simulation.RunRound(round, (done, total) =>
                        roundsTask.Description = $"round {round}/{options.Rounds}: client {done}/{total}");
                    if (round == options.Rounds && options.GenerationExamples > 0)
                    {
                        roundsTask.Description = $"round {round}: generating for Rouge-L/accuracy";
                        finalQuality = simulation.Evaluate(generate: true);
                        m = m with { EvalLoss = finalQuality.EvalLoss, RougeL = finalQuality.RougeL, Accuracy = finalQuality.Accuracy };
                    }
                    metrics.Add(m);
                    log.WriteLine(Serialize(m));
                    log.Flush();
                    roundsTask.Description = $"round {round}/{options.Rounds}: train {m.TrainLoss:F3}" +
                        (m.EvalLoss is double e ? $" · eval {e:F3}" : "") + $" · ↑{m.BytesUpPerClient:N0} B ↓{m.BytesDownPerClient:N0} B/client";
                    roundsTask.Increment(1);
                }
            });
        var last = metrics[^1];
        finalQuality ??= new ModelQuality(last.EvalLoss ?? double.NaN, last.RougeL, last.Accuracy);
        var trained = metrics.Skip(1).ToArray();
        var summary = new SimulationSummary("fedkseed", options.Rounds, options.Clients, options.ClientsPerRound, baseQuality!, finalQuality,
            trained.Average(m => m.BytesUpPerClient), trained.Average(m => m.BytesDownPerClient), clock.Elapsed.TotalSeconds, outDir);
        File.WriteAllText(Path.Combine(outDir, "summary.json"), Serialize(summary));
        var (png, _) = MetricsPlot.Write(metrics, $"FedKSeed · {options.Clients} clients · {options.Partition}", Path.Combine(outDir, "loss"));
        if (json) JsonOutput.Write(summary);
        else
        {
            var table = new Table().AddColumn("").AddColumn("eval loss").AddColumn("Rouge-L").AddColumn("accuracy");
            table.AddRow("base", $"{summary.Base.EvalLoss:F4}", Fmt(summary.Base.RougeL), Fmt(summary.Base.Accuracy));
            table.AddRow("final", $"{summary.Final.EvalLoss:F4}", Fmt(summary.Final.RougeL), Fmt(summary.Final.Accuracy));
            console.Write(table);
            console.MarkupLine($"bytes per client per round: up {summary.BytesUpPerClientRound:N0}, down {summary.BytesDownPerClientRound:N0} · {summary.WallS:F0} s · plot {Markup.Escape(png)}");
        }
        return CliRunner.Ok;
    }

    private static string Quality(ModelQuality q) =>
        (q.RougeL is double r ? $" · Rouge-L {r:F3}" : "") + (q.Accuracy is double a ? $" · accuracy {a:F3}" : "");

    private static string Fmt(double? value) => value is double v ? v.ToString("F4") : "-";

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonOutput.Options);
}
