using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Reports;
using Federated.Data;
using Federated.Privacy.Audit;
using Federated.Privacy.Capture;
using Federated.Simulation.ComPeft;
using Federated.Simulation.FedKSeed;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated audit`: what a curious server learns from the updates it receives. Either reads a capture
/// (`--run DIR`, written by `federated simulate --capture`) or runs a small simulation itself (`--method`) with
/// canaries planted in client 0's data, then runs the probes that apply (PrivacyAudit) and writes audit.json,
/// report.html and roc.png/svg into --out.
/// </summary>
internal static class AuditCommand
{
    /// <summary>File (in the capture folder) with the MIA non-members matched to the canaries.</summary>
    public const string NonMembersFile = "canary-nonmembers.jsonl";

    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "Audit an existing capture: a `simulate --capture` output folder (or its captures/ folder)." };
        var method = new Option<string?>("--method") { Description = "Run a small simulation first: fedkseed or compeft." };
        var model = new Option<string?>("--model") { Description = $"--method: base model folder (default the bundled {BuiltinModel.RelativePath})." };
        var data = new Option<string>("--data") { Description = "--method: client data, builtin or a JSONL file.", DefaultValueFactory = _ => "builtin" };
        var evalData = new Option<string>("--eval-data") { Description = "--method: evaluation data (and default MIA non-member pool).", DefaultValueFactory = _ => "builtin:test" };
        var clients = new Option<int>("--clients") { Description = "--method: clients N.", DefaultValueFactory = _ => 4 };
        var perRound = new Option<int>("--clients-per-round") { Description = "--method: clients per round M.", DefaultValueFactory = _ => 2 };
        var rounds = new Option<int>("--rounds") { Description = "--method: rounds.", DefaultValueFactory = _ => 2 };
        var steps = new Option<int?>("--local-steps") { Description = "--method: local steps τ (default 1 for compeft: the single-step case of gradient inversion; 10 for fedkseed)." };
        var batch = new Option<int>("--batch-size") { Description = "--method compeft: examples per step B.", DefaultValueFactory = _ => 2 };
        var lr = new Option<float?>("--lr") { Description = "--method: learning rate (default 5e-3 compeft AdamW, 3e-5 fedkseed η)." };
        var density = new Option<double>("--density") { Description = "--method compeft: ComPEFT density d (1 = dense).", DefaultValueFactory = _ => 0.05 };
        var uncompressed = new Option<bool>("--uncompressed") { Description = "--method compeft: dense float32 updates (FedAvg-LoRA)." };
        var seeds = new Option<int>("--seeds") { Description = "--method fedkseed: candidate seeds K.", DefaultValueFactory = _ => 1024 };
        var epsilon = new Option<float>("--epsilon") { Description = "--method fedkseed: perturbation ε.", DefaultValueFactory = _ => 5e-4f };
        var dpClip = new Option<double>("--dp-clip") { Description = "--method: DP clip C (0 = off)." };
        var dpNoise = new Option<double>("--dp-noise") { Description = "--method: DP noise multiplier σ." };
        var secure = new Option<bool>("--secure-aggregation") { Description = "--method: the server sees only each round's mean update." };
        var canaries = new Option<int>("--canaries") { Description = "--method: synthetic canary records planted in client 0's data (and as many matched non-members).", DefaultValueFactory = _ => 8 };
        var copies = new Option<int>("--canary-copies") { Description = "--method: copies of each canary in client 0's data.", DefaultValueFactory = _ => 4 };
        var seed = new Option<ulong>("--seed") { Description = "--method: run seed.", DefaultValueFactory = _ => 42 };
        var evalExamples = new Option<int>("--eval-examples") { Description = "--method: examples scored for the task-quality loss.", DefaultValueFactory = _ => 50 };
        var genExamples = new Option<int>("--generation-examples") { Description = "--method: generations per task for Rouge-L/accuracy (0 = skip).", DefaultValueFactory = _ => 0 };
        var probes = new Option<string>("--probes") { Description = "all or a comma list of token-set, inversion, zo-membership, mia.", DefaultValueFactory = _ => "all" };
        var inversionEvals = new Option<int>("--inversion-evaluations") { Description = "Budget of the gradient inversion (matching-loss evaluations).", DefaultValueFactory = _ => 3000 };
        var inversionFull = new Option<bool>("--inversion-unknown-prompt") { Description = "Invert every token (default: the attacker knows the prompt and rebuilds the private response)." };
        var threads = new Option<int>("--threads") { Description = "Engine threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/audit-<time>)." };
        var json = new Option<bool>("--json") { Description = "Print audit.json's object on stdout." };
        var command = new Command("audit",
            "Measure what a curious server learns from the updates it receives (token-set leakage, gradient inversion,\n" +
            "zeroth-order scalar probes, membership inference) and the DP (ε, δ) of the run; writes audit.json and report.html.\n\n" +
            "Examples:\n  federated audit --method compeft --threads 1 --out runs/audit-compeft\n" +
            "  federated audit --method compeft --uncompressed --dp-clip 1 --dp-noise 1.1 --out runs/audit-dp --json\n" +
            "  federated audit --method fedkseed --probes inversion,zo-membership --out runs/audit-fedkseed\n" +
            "  federated simulate --method compeft --capture --out runs/c1 && federated audit --run runs/c1")
        {
            run, method, model, data, evalData, clients, perRound, rounds, steps, batch, lr, density, uncompressed, seeds, epsilon,
            dpClip, dpNoise, secure, canaries, copies, seed, evalExamples, genExamples, probes, inversionEvals, inversionFull, threads, output, json,
        };
        command.SetAction(parse =>
        {
            string? runDir = parse.GetValue(run), name = parse.GetValue(method)?.ToLowerInvariant();
            if ((runDir is null) == (name is null)) throw new ArgumentException("Give exactly one of --run DIR or --method fedkseed|compeft.");
            if (name is not (null or "fedkseed" or "compeft")) throw new ArgumentException($"--method '{parse.GetValue(method)}' is unknown; use fedkseed or compeft.");
            var probeSet = AuditProbes.Parse(parse.GetValue(probes)!);
            EngineSettings.Apply(parse.GetValue(threads));
            string outDir = parse.GetValue(output) ?? Path.Combine("runs", $"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            IReadOnlyList<InstructionExample>? nonMembers = null;
            if (name is not null)
            {
                string simDir = Path.Combine(outDir, "run");
                string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
                int canaryCount = parse.GetValue(canaries), copyCount = parse.GetValue(copies);
                if (copyCount < 1) throw new ArgumentOutOfRangeException("--canary-copies", copyCount, "--canary-copies must be at least 1.");
                var (members, matched) = canaryCount > 0 ? Canaries.Create(canaryCount, parse.GetValue(seed)) : ([], []);
                var planted = members.SelectMany(c => Enumerable.Repeat(c, copyCount)).ToArray();
                nonMembers = matched;
                Func<Simulation.ISimulation> create;
                if (name == "compeft")
                {
                    var options = new ComPeftSimulationOptions
                    {
                        ModelDirectory = modelDir, Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                        Clients = parse.GetValue(clients), ClientsPerRound = parse.GetValue(perRound), Rounds = parse.GetValue(rounds),
                        LocalSteps = parse.GetValue(steps) ?? 1, BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr) ?? 5e-3f,
                        Density = parse.GetValue(density), Uncompressed = parse.GetValue(uncompressed), Seed = parse.GetValue(seed),
                        DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise), SecureAggregation = parse.GetValue(secure),
                        EvalEvery = parse.GetValue(rounds), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                        CaptureDirectory = Path.Combine(simDir, "captures"), Canaries = planted,
                    };
                    options.Validate();
                    create = () => new ComPeftSimulation(options);
                }
                else
                {
                    var options = new FedKSeedSimulationOptions
                    {
                        ModelDirectory = modelDir, Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                        Clients = parse.GetValue(clients), ClientsPerRound = parse.GetValue(perRound), Rounds = parse.GetValue(rounds),
                        LocalSteps = parse.GetValue(steps) ?? 10, LearningRate = parse.GetValue(lr) ?? 3e-5f, Seeds = parse.GetValue(seeds),
                        Epsilon = parse.GetValue(epsilon), Seed = parse.GetValue(seed),
                        DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise), SecureAggregation = parse.GetValue(secure),
                        EvalEvery = parse.GetValue(rounds), EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                        CaptureDirectory = Path.Combine(simDir, "captures"), Canaries = planted,
                    };
                    options.Validate();
                    create = () => new FedKSeedSimulation(options);
                }
                SimulateCommand.Run(create, modelDir, simDir, json: false);
                if (matched.Length > 0) InstructionDatasetWriter.Write(Path.Combine(simDir, "captures", NonMembersFile), matched);
                runDir = simDir;
            }
            var captured = CapturedRun.Load(runDir!);
            string nonMembersPath = Path.Combine(captured.Directory, NonMembersFile);
            if (nonMembers is null && File.Exists(nonMembersPath)) nonMembers = InstructionDataset.Load(nonMembersPath).Records;
            Directory.CreateDirectory(outDir);
            var report = PrivacyAudit.Run(captured, new AuditOptions
            {
                Probes = probeSet, NonMembers = nonMembers, InversionEvaluations = parse.GetValue(inversionEvals),
                InversionKnownPrompt = !parse.GetValue(inversionFull),
            }, message => console.MarkupLine($"[grey]{Markup.Escape(message)}[/]"));
            File.WriteAllText(Path.Combine(outDir, "audit.json"), JsonSerializer.Serialize(report, JsonOutput.Options));
            string html = AuditHtml.Write(report, outDir);
            if (parse.GetValue(json)) JsonOutput.Write(report);
            else
            {
                console.Write(AuditHtml.SummaryTable(report));
                console.MarkupLine($"wrote [blue]{Markup.Escape(Path.Combine(outDir, "audit.json"))}[/] and [blue]{Markup.Escape(html)}[/]");
            }
            return CliRunner.Ok;
        });
        return command;
    }
}
