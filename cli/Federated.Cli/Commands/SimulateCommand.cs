using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Globalization;
using Federated.Cli.Plotting;
using Federated.Data.Evaluation;
using Federated.Simulation;
using Federated.Server.Strategies;
using Federated.Simulation.ComPeft;
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
        var federation = new FederationOptions(simulated: true);
        var model = new Option<string?>("--model") { Description = $"Base model folder (Hugging Face format; its {ModelRecommendations.FileName}, if any, recommends settings). Default: the bundled {BuiltinModel.RelativePath}." };
        var data = new Option<string>("--data") { Description = "Client data: builtin (WordNet train split) or a JSONL file.", DefaultValueFactory = _ => d.Data };
        var evalData = new Option<string>("--eval-data") { Description = "Evaluation data: builtin:test, builtin:validation or a JSONL file.", DefaultValueFactory = _ => d.EvalData };
        var partition = new Option<string>("--partition") { Description = "iid | dirichlet:α | categories:k | quantity:σ [+holdout:CAT,…] (docs/data.md).", DefaultValueFactory = _ => d.Partition };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate the global model's loss every E rounds.", DefaultValueFactory = _ => d.EvalEvery };
        var evalExamples = new Option<int>("--eval-examples") { Description = "Examples scored for the evaluation loss (base and final are compared on them, example by example).", DefaultValueFactory = _ => d.EvalExamples };
        var genExamples = new Option<int>("--generation-examples") { Description = "Examples generated per task for Rouge-L/accuracy (base and final; 0 = skip).", DefaultValueFactory = _ => d.GenerationExamples };
        var dpClip = new Option<double>("--dp-clip") { Description = "DP clip C, 0 = off: compeft clips each example's adapter gradient to L2 norm C (DP-SGD); fedkseed clips each scalar g to [−C, C] (DPZero)." };
        var dpNoise = new Option<double>("--dp-noise") { Description = "DP noise multiplier σ: Gaussian noise of std σ·C (needs --dp-clip); 0 = clip only." };
        var secureAggregation = new Option<bool>("--secure-aggregation") { Description = "Simulate secure aggregation: the server's view (the capture) is only each round's sample-weighted mean update (needs --aggregate mean)." };
        var capture = new Option<bool>("--capture") { Description = "Write what the server receives to OUT/captures (run.json, updates.jsonl, payloads, versions) for `federated audit --run`." };
        var threads = new Option<int>("--threads") { Description = "Engine threads (results do not depend on it).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/<method>-<time>)." };
        var json = new Option<bool>("--json") { Description = "Print summary.json's object on stdout." };
        var command = new Command("simulate",
            "Simulate a federation in one process with the real server and client code. Ends with the paired difference\n" +
            "final − base on the evaluation records (mean ± standard error), as `federated eval --compare` reports it.\n\n" +
            "Examples:\n  federated simulate\n" +
            "  federated simulate --clients 200 --clients-per-round 10 --rounds 20 --seeds 4096 --local-steps 200 --partition dirichlet:0.5 --json\n" +
            "  federated simulate --clients 1000 --rounds 2 --local-steps 20 --out runs/scale\n" +
            "  federated simulate --method compeft --density 0.05 --aggregate mean --error-feedback --lora-rank 8 --rounds 10 --out runs/compeft\n" +
            "  federated simulate --method compeft --uncompressed --out runs/fedavg-lora   (then: federated generate --adapter runs/fedavg-lora/adapter --prompt ...)\n" +
            "  federated simulate --method compeft --aggregate mean --dp-clip 1 --dp-noise 0.8 --capture --out runs/compeft-dp   (then: federated audit --run runs/compeft-dp)")
        {
            model, data, evalData, partition, evalEvery, evalExamples, genExamples, dpClip, dpNoise, secureAggregation, capture, threads, output, json,
        };
        federation.AddTo(command);
        command.SetAction(parse =>
        {
            EngineSettings.Apply(parse.GetValue(threads));
            string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
            var settings = federation.Read(parse, modelDir);
            if (settings.RecommendationsLine is { } line) Console.Error.WriteLine(line);
            var outDir = parse.GetValue(output) ?? Path.Combine("runs", $"{settings.Method}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            var options = BuildOptions(settings, modelDir) with
            {
                Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!, Partition = parse.GetValue(partition)!,
                EvalEvery = parse.GetValue(evalEvery), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise),
                SecureAggregation = parse.GetValue(secureAggregation), CaptureDirectory = parse.GetValue(capture) ? Path.Combine(outDir, "captures") : null,
            };
            return Run(Creator(options), modelDir, outDir, parse.GetValue(json));
        });
        return command;
    }

    /// <summary>The simulation options of <paramref name="settings"/>' method (the rest at their defaults).</summary>
    internal static SimulationOptions BuildOptions(RunSettings settings, string modelDir) => settings.Method == "fedkseed"
        ? FedKSeedSimulationOptions.Create(modelDir, settings.Federation, settings.FedKSeed)
        : ComPeftSimulationOptions.Create(modelDir, settings.Federation, settings.ComPeft);

    /// <summary>Validates <paramref name="options"/> now (bad input exits 2 before any loading) and returns the simulation's factory.</summary>
    internal static Func<ISimulation> Creator(SimulationOptions options)
    {
        switch (options)
        {
            case FedKSeedSimulationOptions f:
                f.Validate();
                return () => new FedKSeedSimulation(f);
            case ComPeftSimulationOptions c:
                c.Validate();
                return () => new ComPeftSimulation(c);
            default:
                throw new ArgumentException($"No simulation runs {options.GetType().Name}.");
        }
    }

    /// <summary>The one runner of every method: base evaluation, rounds, final evaluation, metrics.jsonl, summary.json, plot, artefacts.</summary>
    internal static int Run(Func<ISimulation> create, string modelDir, string outDir, bool json)
    {
        Directory.CreateDirectory(outDir);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var (summary, metrics, plotTitle) = Simulate(create, modelDir, outDir, console);
        // The simulation (model, data, clients) is garbage by now: hand its memory back before the plot loads Skia
        // (≈ 10 MB native), so the plot does not raise the run's peak.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var (png, _) = MetricsPlot.Write(metrics, plotTitle, Path.Combine(outDir, "loss"));
        if (json) JsonOutput.Write(summary);
        else
        {
            var table = new Table().AddColumn("").AddColumn("eval loss").AddColumn("Rouge-L").AddColumn("accuracy");
            table.AddRow("base", $"{summary.Base.EvalLoss:F4}", Fmt(summary.Base.RougeL), Fmt(summary.Base.Accuracy));
            table.AddRow("final", $"{summary.Final.EvalLoss:F4}", Fmt(summary.Final.RougeL), Fmt(summary.Final.Accuracy));
            console.Write(table);
            if (summary.Delta is { } d) console.MarkupLine(PairedLine(d));
            console.MarkupLine($"bytes per client per round: up {summary.BytesUpPerClientRound:N0}" +
                (summary.Fp32UpdateBytes is long f ? $" (fp32 update {f:N0}, {summary.UplinkCompression:F1}×)" : "") +
                $", down {summary.BytesDownPerClientRound:N0} · {summary.WallS:F0} s · peak memory {summary.PeakMemoryMb:F0} MB · plot {Markup.Escape(png)}");
            foreach (var a in summary.Artifacts ?? []) console.MarkupLine($"wrote [blue]{Markup.Escape(a)}[/]");
        }
        return CliRunner.Ok;
    }

    /// <summary>Base evaluation, the rounds (metrics.jsonl line by line), final evaluation, artefacts and summary.json.</summary>
    private static (SimulationSummary Summary, List<RoundMetrics> Metrics, string PlotTitle) Simulate(Func<ISimulation> create, string modelDir,
        string outDir, IAnsiConsole console)
    {
        var clock = Stopwatch.StartNew();
        var simulation = create();
        using var disposable = simulation as IDisposable;
        var shape = simulation.Shape;
        console.MarkupLine($"[bold]{Markup.Escape(shape.Title)}[/]");
        console.MarkupLine($"model [blue]{Markup.Escape(modelDir)}[/] · {simulation.TrainableElements:N0} trainable parameters · out [blue]{Markup.Escape(outDir)}[/]");

        var metrics = new List<RoundMetrics>();
        ModelQuality? baseQuality = null, finalQuality = null;
        using var log = new StreamWriter(Path.Combine(outDir, "metrics.jsonl"));
        console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var evalTask = ctx.AddTask("base model: evaluate", maxValue: 1);
                baseQuality = simulation.Evaluate(generate: shape.GenerationExamples > 0, (done, total) => { evalTask.MaxValue = total; evalTask.Value = done; });
                evalTask.Description = $"base model: loss {baseQuality.EvalLoss:F3}{Quality(baseQuality)}";
                var base0 = new RoundMetrics(0, 0, null, baseQuality.EvalLoss, baseQuality.RougeL, baseQuality.Accuracy, 0, 0, 0, 0, 0);
                metrics.Add(base0);
                log.WriteLine(Serialize(base0));
                var roundsTask = ctx.AddTask("rounds", maxValue: shape.Rounds);
                for (int r = 1; r <= shape.Rounds; r++)
                {
                    int round = r;
                    var m = simulation.RunRound(round, (done, total) =>
                        roundsTask.Description = $"round {round}/{shape.Rounds}: client {done}/{total}");
                    if (round == shape.Rounds)
                    {
                        // The final model on the base's records (and generations), example by example, for the paired Δ.
                        roundsTask.Description = $"round {round}: scoring the final model" + (shape.GenerationExamples > 0 ? " (generating for Rouge-L/accuracy)" : "");
                        finalQuality = simulation.Evaluate(generate: shape.GenerationExamples > 0);
                        m = m with { EvalLoss = finalQuality.EvalLoss, RougeL = finalQuality.RougeL, Accuracy = finalQuality.Accuracy };
                    }
                    metrics.Add(m);
                    log.WriteLine(Serialize(m));
                    log.Flush();
                    roundsTask.Description = $"round {round}/{shape.Rounds}: train {m.TrainLoss:F3}" +
                        (m.EvalLoss is double e ? $" · eval {e:F3}" : "") + $" · ↑{m.BytesUpPerClient:N0} B ↓{m.BytesDownPerClient:N0} B/client";
                    roundsTask.Increment(1);
                }
            });
        var delta = baseQuality!.Scores is { } baseScores && finalQuality!.Scores is { } finalScores ? TaskEvaluator.Compare(finalScores, baseScores) : null;
        var trained = metrics.Skip(1).ToArray();
        var artifacts = simulation.SaveArtifacts(outDir);
        double bytesUp = trained.Average(m => m.BytesUpPerClient);
        long? fp32 = simulation.Fp32UpdateBytes;
        using var process = Process.GetCurrentProcess();
        var summary = new SimulationSummary(shape.Method, shape.Rounds, shape.Clients, shape.ClientsPerRound, baseQuality, finalQuality!,
            bytesUp, trained.Average(m => m.BytesDownPerClient), clock.Elapsed.TotalSeconds, outDir,
            fp32, fp32 is long f && bytesUp > 0 ? f / bytesUp : null, artifacts,
            trained.Average(m => m.ClientSeconds), process.PeakWorkingSet64 / 1e6, delta);
        File.WriteAllText(Path.Combine(outDir, "summary.json"), Serialize(summary));
        return (summary, metrics, $"{shape.Method} · {shape.Clients} clients · {shape.Partition}");
    }

    /// <summary>The console's paired line, e.g. "final − base, paired over the same 500 records: loss −0.0028 ± 0.0006
    /// (t −4.8, significant) · Rouge-L …" (± one standard error; significant: |Δ| &gt; 2 se).</summary>
    internal static string PairedLine(EvaluationComparison delta)
    {
        var parts = new List<string>();
        foreach (var (name, d) in new[] { ("loss", (PairedDifference?)delta.Loss), ("Rouge-L", delta.RougeL), ("accuracy", delta.Accuracy) })
        {
            if (d is null || d.Count < 2) continue;
            var inv = CultureInfo.InvariantCulture;
            parts.Add($"{name} {d.Mean.ToString("+0.0000;-0.0000;0", inv)} ± {d.StandardError.ToString("F4", inv)} " +
                $"(t {d.T.ToString("F1", inv)}, {(d.Significant ? "[green]significant[/]" : "[yellow]not significant[/]")})");
        }
        return $"final − base, paired over the same {delta.Loss.Count} records (± standard error; significant = |Δ| > 2 se): {string.Join(" · ", parts)}";
    }

    private static string Quality(ModelQuality q) =>
        (q.RougeL is double r ? $" · Rouge-L {r:F3}" : "") + (q.Accuracy is double a ? $" · accuracy {a:F3}" : "");

    private static string Fmt(double? value) => value is double v ? v.ToString("F4") : "-";

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonOutput.Options);
}
