using System.CommandLine;
using System.Text.Json;
using Federated.Cli.Reports;
using Federated.Data;
using Federated.Privacy.Audit;
using Federated.Privacy.Capture;
using Federated.Server.Parameters;
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

    /// <summary>The audit's own population: a small federation (4 clients, 2 per round, 2 rounds) in which client 0, the
    /// canaries' holder, trains in the first round. Every method hyper-parameter is the other verbs' (FederationOptions).</summary>
    internal static readonly FederationSettings Population = new() { Clients = 4, ClientsPerRound = 2, Rounds = 2 };

    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "Audit an existing capture: a `simulate --capture` output folder (or its captures/ folder)." };
        var federation = new FederationOptions(simulated: true, population: Population);
        var model = new Option<string?>("--model") { Description = $"--method: base model folder (default the bundled {BuiltinModel.RelativePath}; its {ModelRecommendations.FileName}, if any, recommends settings)." };
        var data = new Option<string>("--data") { Description = "--method: client data, builtin or a JSONL file.", DefaultValueFactory = _ => "builtin" };
        var evalData = new Option<string>("--eval-data") { Description = "--method: evaluation data (and default MIA non-member pool).", DefaultValueFactory = _ => "builtin:test" };
        var dpClip = new Option<double>("--dp-clip") { Description = "--method: DP clip C (0 = off)." };
        var dpNoise = new Option<double>("--dp-noise") { Description = "--method: DP noise multiplier σ." };
        var secure = new Option<bool>("--secure-aggregation") { Description = "--method: the server sees only each round's mean update." };
        var canaries = new Option<int>("--canaries") { Description = "--method: synthetic canary records planted in client 0's data (and as many matched non-members).", DefaultValueFactory = _ => 8 };
        var copies = new Option<int>("--canary-copies") { Description = "--method: copies of each canary in client 0's data.", DefaultValueFactory = _ => 4 };
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
            run, model, data, evalData, dpClip, dpNoise, secure, canaries, copies, evalExamples, genExamples, probes, inversionEvals, inversionFull,
            threads, output, json,
        };
        federation.AddTo(command);
        command.SetAction(parse =>
        {
            string? runDir = parse.GetValue(run);
            bool simulate = parse.GetResult(federation.Method) is { Implicit: false };
            if ((runDir is null) == !simulate) throw new ArgumentException("Give exactly one of --run DIR or --method fedkseed|compeft.");
            var probeSet = AuditProbes.Parse(parse.GetValue(probes)!);
            EngineSettings.Apply(parse.GetValue(threads));
            string outDir = parse.GetValue(output) ?? Path.Combine("runs", $"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            IReadOnlyList<InstructionExample>? nonMembers = null;
            if (simulate)
            {
                string simDir = Path.Combine(outDir, "run");
                string modelDir = BuiltinModel.Resolve(parse.GetValue(model));
                var settings = federation.Read(parse, modelDir);
                if (settings.RecommendationsLine is { } line) console.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
                int canaryCount = parse.GetValue(canaries), copyCount = parse.GetValue(copies);
                if (copyCount < 1) throw new ArgumentOutOfRangeException("--canary-copies", copyCount, "--canary-copies must be at least 1.");
                var (members, matched) = canaryCount > 0 ? Canaries.Create(canaryCount, settings.Federation.Seed) : ([], []);
                var planted = members.SelectMany(c => Enumerable.Repeat(c, copyCount)).ToArray();
                nonMembers = matched;
                var options = SimulateCommand.BuildOptions(settings, modelDir) with
                {
                    Data = parse.GetValue(data)!, EvalData = parse.GetValue(evalData)!,
                    DpClipNorm = parse.GetValue(dpClip), DpNoiseMultiplier = parse.GetValue(dpNoise), SecureAggregation = parse.GetValue(secure),
                    EvalEvery = settings.Federation.Rounds, EvalExamples = parse.GetValue(evalExamples), GenerationExamples = parse.GetValue(genExamples),
                    CaptureDirectory = Path.Combine(simDir, "captures"), Canaries = planted,
                };
                var create = SimulateCommand.Creator(options);
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
