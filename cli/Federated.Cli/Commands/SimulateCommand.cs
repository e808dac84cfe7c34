using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Federated.Cli.Plotting;
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
        var c = new ComPeftSimulationOptions { ModelDirectory = "" };
        var method = new Option<string>("--method") { Description = "fedkseed (zeroth-order, seeds and scalars) or compeft (LoRA, ternary-compressed updates).", DefaultValueFactory = _ => "fedkseed" };
        var model = new Option<string?>("--model") { Description = $"Base model folder (Hugging Face format). Default: the bundled {BuiltinModel.RelativePath}." };
        var data = new Option<string>("--data") { Description = "Client data: builtin (WordNet train split) or a JSONL file.", DefaultValueFactory = _ => d.Data };
        var evalData = new Option<string>("--eval-data") { Description = "Evaluation data: builtin:test, builtin:validation or a JSONL file.", DefaultValueFactory = _ => d.EvalData };
        var clients = new Option<int?>("--clients") { Description = $"Simulated clients N (default {d.Clients} fedkseed, {c.Clients} compeft)." };
        var perRound = new Option<int?>("--clients-per-round") { Description = $"Clients per round M (default {d.ClientsPerRound} fedkseed, {c.ClientsPerRound} compeft)." };
        var rounds = new Option<int>("--rounds") { Description = "Rounds R.", DefaultValueFactory = _ => d.Rounds };
        var seeds = new Option<int>("--seeds") { Description = "fedkseed: candidate seeds K.", DefaultValueFactory = _ => d.Seeds };
        var steps = new Option<int?>("--local-steps") { Description = $"Local steps per client per round τ (default {d.LocalSteps} zeroth-order steps of batch 1 for fedkseed, {c.LocalSteps} AdamW steps for compeft)." };
        var epsilon = new Option<float>("--epsilon") { Description = "fedkseed: perturbation scale ε.", DefaultValueFactory = _ => d.Epsilon };
        var lr = new Option<float?>("--lr") { Description = $"Learning rate (default {d.LearningRate:G3} fedkseed η, constant; {c.LearningRate:G3} compeft AdamW)." };
        var partition = new Option<string>("--partition") { Description = "iid | dirichlet:α | categories:k | quantity:σ [+holdout:CAT,…] (docs/data.md).", DefaultValueFactory = _ => d.Partition };
        var pro = new Option<bool>("--pro") { Description = "fedkseed: FedKSeed-Pro, seed probabilities from the history of |g|." };
        var trainable = new Option<string?>("--trainable") { Description = "fedkseed: regex over parameter names to train (default all), e.g. 'self_attn|mlp'." };
        var density = new Option<double>("--density") { Description = "compeft: fraction of each update kept, (0, 1]; 1 = dense float32 (plain FedAvg-LoRA).", DefaultValueFactory = _ => c.Density };
        var uncompressed = new Option<bool>("--uncompressed") { Description = "compeft: send updates dense as float32 (same as --density 1)." };
        var scaleFactor = new Option<double?>("--scale-factor") { Description = "compeft: ComPEFT α, scale = α·σ(Δ) (default: per-density α(d), docs/compeft.md)." };
        var leastSquares = new Option<bool>("--least-squares-scale") { Description = "compeft: STC scale ‖Δ_kept‖₁/k instead of α·σ." };
        var aggregate = new Option<string>("--aggregate") { Description = "compeft: server merge, mean (sample-weighted FedAvg) or ties.", DefaultValueFactory = _ => "mean" };
        var tiesLambda = new Option<double>("--ties-lambda") { Description = "compeft: TIES λ (server step on the disjoint mean).", DefaultValueFactory = _ => c.TiesLambda };
        var errorFeedback = new Option<bool>("--error-feedback") { Description = "compeft: clients keep a residual of what compression dropped (one adapter-sized vector per client)." };
        var downlink = new Option<double>("--downlink-density") { Description = "compeft: re-compress the merged update for the downlink at this density; 0 = dense.", DefaultValueFactory = _ => c.DownlinkDensity };
        var rank = new Option<int>("--lora-rank") { Description = "compeft: LoRA rank r.", DefaultValueFactory = _ => c.LoraRank };
        var alpha = new Option<float>("--lora-alpha") { Description = "compeft: LoRA α (scaling α/r).", DefaultValueFactory = _ => c.LoraAlpha };
        var targets = new Option<string>("--lora-targets") { Description = "compeft: comma-separated projections to wrap.", DefaultValueFactory = _ => string.Join(",", c.TargetModules) };
        var ffa = new Option<bool>("--ffa") { Description = "compeft: FFA-LoRA, A frozen from the shared seed, only B trained and sent (default)." };
        var noFfa = new Option<bool>("--no-ffa") { Description = "compeft: plain LoRA, A and B trained and averaged separately (inexact, FedIT-style)." };
        var batch = new Option<int>("--batch-size") { Description = "compeft: examples per AdamW step.", DefaultValueFactory = _ => c.BatchSize };
        var seed = new Option<ulong>("--seed") { Description = "Seed of every random choice (and of the seed pool / the shared LoRA A).", DefaultValueFactory = _ => d.Seed };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate the global model's loss every E rounds.", DefaultValueFactory = _ => d.EvalEvery };
        var evalExamples = new Option<int>("--eval-examples") { Description = "Examples scored for the evaluation loss.", DefaultValueFactory = _ => d.EvalExamples };
        var genExamples = new Option<int>("--generation-examples") { Description = "Examples generated per task for Rouge-L/accuracy (base and final; 0 = skip).", DefaultValueFactory = _ => d.GenerationExamples };
        var dpClip = new Option<double>("--dp-clip") { Description = "DP clip C, 0 = off: compeft clips each example's adapter gradient to L2 norm C (DP-SGD); fedkseed clips each scalar g to [−C, C] (DPZero)." };
        var dpNoise = new Option<double>("--dp-noise") { Description = "DP noise multiplier σ: Gaussian noise of std σ·C (needs --dp-clip); 0 = clip only." };
        var secureAggregation = new Option<bool>("--secure-aggregation") { Description = "Simulate secure aggregation: the server's view (the capture) is only each round's sample-weighted mean update." };
        var capture = new Option<bool>("--capture") { Description = "Write what the server receives to OUT/captures (run.json, updates.jsonl, payloads, versions) for `federated audit --run`." };
        var threads = new Option<int>("--threads") { Description = "Engine threads (results do not depend on it).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/<method>-<time>)." };
        var json = new Option<bool>("--json") { Description = "Print summary.json's object on stdout." };
        var command = new Command("simulate",
            "Simulate a federation in one process with the real server and client code.\n\n" +
            "Examples:\n  federated simulate\n" +
            "  federated simulate --clients 200 --clients-per-round 10 --rounds 20 --seeds 4096 --local-steps 200 --partition dirichlet:0.5 --json\n" +
            "  federated simulate --clients 1000 --rounds 2 --local-steps 20 --out runs/scale\n" +
            "  federated simulate --method compeft --density 0.05 --aggregate mean --error-feedback --lora-rank 8 --rounds 10 --out runs/compeft\n" +
            "  federated simulate --method compeft --uncompressed --out runs/fedavg-lora   (then: federated generate --adapter runs/fedavg-lora/adapter --prompt ...)\n" +
            "  federated simulate --method compeft --dp-clip 1 --dp-noise 0.8 --capture --out runs/compeft-dp   (then: federated audit --run runs/compeft-dp)")
        {
            method, model, data, evalData, clients, perRound, rounds, seeds, steps, epsilon, lr, partition, pro, trainable,
            density, uncompressed, scaleFactor, leastSquares, aggregate, tiesLambda, errorFeedback, downlink, rank, alpha, targets, ffa, noFfa, batch,
            seed, evalEvery, evalExamples, genExamples, dpClip, dpNoise, secureAggregation, capture, threads, output, json,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(method)!.ToLowerInvariant();
            if (name is not ("fedkseed" or "compeft"))
                throw new ArgumentException($"--method '{parse.GetValue(method)}' is unknown; use fedkseed or compeft.");
            EngineSettings.Apply(parse.GetValue(threads));
            string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
            var outDir = parse.GetValue(output) ?? Path.Combine("runs", $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            string? captureDir = parse.GetValue(capture) ? Path.Combine(outDir, "captures") : null;
            Func<ISimulation> create;
            if (name == "fedkseed")
            {
                var options = new FedKSeedSimulationOptions
                {
                    ModelDirectory = modelDir, Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                    Clients = parse.GetValue(clients) ?? d.Clients, ClientsPerRound = parse.GetValue(perRound) ?? d.ClientsPerRound, Rounds = parse.GetValue(rounds),
                    Seeds = parse.GetValue(seeds), LocalSteps = parse.GetValue(steps) ?? d.LocalSteps, Epsilon = parse.GetValue(epsilon), LearningRate = parse.GetValue(lr) ?? d.LearningRate,
                    Partition = parse.GetValue(partition)!, Pro = parse.GetValue(pro), Trainable = parse.GetValue(trainable), Seed = parse.GetValue(seed),
                    EvalEvery = parse.GetValue(evalEvery), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                    DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise),
                    SecureAggregation = parse.GetValue(secureAggregation), CaptureDirectory = captureDir,
                };
                options.Validate();
                create = () => new FedKSeedSimulation(options);
            }
            else
            {
                if (parse.GetValue(ffa) && parse.GetValue(noFfa)) throw new ArgumentException("--ffa and --no-ffa contradict each other; give one.");
                var options = new ComPeftSimulationOptions
                {
                    ModelDirectory = modelDir, Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                    Clients = parse.GetValue(clients) ?? c.Clients, ClientsPerRound = parse.GetValue(perRound) ?? c.ClientsPerRound, Rounds = parse.GetValue(rounds),
                    LocalSteps = parse.GetValue(steps) ?? c.LocalSteps, BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr) ?? c.LearningRate,
                    LoraRank = parse.GetValue(rank), LoraAlpha = parse.GetValue(alpha),
                    TargetModules = [.. parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                    FreezeA = !parse.GetValue(noFfa), Density = parse.GetValue(density), Uncompressed = parse.GetValue(uncompressed),
                    ScaleFactor = parse.GetValue(scaleFactor), LeastSquaresScale = parse.GetValue(leastSquares), ErrorFeedback = parse.GetValue(errorFeedback),
                    Aggregation = parse.GetValue(aggregate)!.ToLowerInvariant() switch
                    {
                        "mean" => ComPeftAggregation.Mean,
                        "ties" => ComPeftAggregation.Ties,
                        var other => throw new ArgumentException($"--aggregate '{other}' is unknown; use mean or ties."),
                    },
                    TiesLambda = parse.GetValue(tiesLambda), DownlinkDensity = parse.GetValue(downlink),
                    Partition = parse.GetValue(partition)!, Seed = parse.GetValue(seed),
                    EvalEvery = parse.GetValue(evalEvery), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                    DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise),
                    SecureAggregation = parse.GetValue(secureAggregation), CaptureDirectory = captureDir,
                };
                options.Validate();
                create = () => new ComPeftSimulation(options);
            }
            return Run(create, modelDir, outDir, parse.GetValue(json));
        });
        return command;
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
                    if (round == shape.Rounds && shape.GenerationExamples > 0)
                    {
                        roundsTask.Description = $"round {round}: generating for Rouge-L/accuracy";
                        finalQuality = simulation.Evaluate(generate: true);
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
        var last = metrics[^1];
        finalQuality ??= new ModelQuality(last.EvalLoss ?? double.NaN, last.RougeL, last.Accuracy);
        var trained = metrics.Skip(1).ToArray();
        var artifacts = simulation.SaveArtifacts(outDir);
        double bytesUp = trained.Average(m => m.BytesUpPerClient);
        long? fp32 = simulation.Fp32UpdateBytes;
        using var process = Process.GetCurrentProcess();
        var summary = new SimulationSummary(shape.Method, shape.Rounds, shape.Clients, shape.ClientsPerRound, baseQuality!, finalQuality,
            bytesUp, trained.Average(m => m.BytesDownPerClient), clock.Elapsed.TotalSeconds, outDir,
            fp32, fp32 is long f && bytesUp > 0 ? f / bytesUp : null, artifacts,
            trained.Average(m => m.ClientSeconds), process.PeakWorkingSet64 / 1e6);
        File.WriteAllText(Path.Combine(outDir, "summary.json"), Serialize(summary));
        return (summary, metrics, $"{shape.Method} · {shape.Clients} clients · {shape.Partition}");
    }

    private static string Quality(ModelQuality q) =>
        (q.RougeL is double r ? $" · Rouge-L {r:F3}" : "") + (q.Accuracy is double a ? $" · accuracy {a:F3}" : "");

    private static string Fmt(double? value) => value is double v ? v.ToString("F4") : "-";

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonOutput.Options);
}
