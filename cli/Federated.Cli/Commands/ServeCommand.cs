using System.CommandLine;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Server.Checkpoints;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Host;
using Federated.Server.Strategies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federated.Cli.Commands;

/// <summary>`federated serve`: runs a federation server (gRPC over HTTP/2) with durable rounds in a state directory.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Base model directory (config.json + *.safetensors); its fingerprint is enforced.", Required = true };
        var method = new Option<string>("--method") { Description = "fedkseed or compeft.", DefaultValueFactory = _ => "fedkseed" };
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "State directory (federation.db, SQLite WAL); a restart resumes from it.", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 5080 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds to aggregate, then FINISHED.", DefaultValueFactory = _ => 100 };
        var perRound = new Option<int>("--clients-per-round") { Description = "M: clients selected per round.", DefaultValueFactory = _ => 10 };
        var minClients = new Option<int>("--min-clients") { Description = "Q: quorum; a round aggregates at Q updates, or is abandoned below Q at its deadline.", DefaultValueFactory = _ => 2 };
        var timeout = new Option<string>("--round-timeout") { Description = "Round deadline after opening, e.g. 90s, 10m, 2h.", DefaultValueFactory = _ => "10m" };
        var tokens = new Option<FileInfo?>("--enroll-tokens") { Description = "File of enrollment tokens, one per line ('#' comments). Default: one is generated into DATA_DIR/enroll-token.txt." };
        var cert = new Option<FileInfo?>("--cert") { Description = "PEM certificate: serve TLS on all interfaces (with --key). Without it: h2c on 127.0.0.1 only." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key of --cert." };
        var c = new ComPeftStrategyOptions();
        var seedCount = new Option<int>("--seed-count") { Description = "fedkseed: K (candidate seeds).", DefaultValueFactory = _ => 1024 };
        var pro = new Option<bool>("--pro") { Description = "fedkseed: FedKSeed-Pro, every task carries seed probabilities from the history of |g| (K floats more per task)." };
        var localSteps = new Option<int?>("--local-steps") { Description = $"τ, local steps per round (default 200 zeroth-order steps for fedkseed, {c.LocalSteps} AdamW steps for compeft)." };
        var learningRate = new Option<float?>("--learning-rate") { Description = $"Learning rate (default 3e-7 fedkseed η; {c.LearningRate:G3} compeft AdamW)." };
        var epsilon = new Option<float>("--epsilon") { Description = "fedkseed: ε.", DefaultValueFactory = _ => 1e-3f };
        var rank = new Option<int>("--lora-rank") { Description = "compeft: LoRA rank r.", DefaultValueFactory = _ => c.Rank };
        var alpha = new Option<float>("--lora-alpha") { Description = "compeft: LoRA α (scaling α/r).", DefaultValueFactory = _ => c.Alpha };
        var targets = new Option<string>("--lora-targets") { Description = "compeft: comma-separated projections to wrap.", DefaultValueFactory = _ => string.Join(",", c.TargetModules) };
        var noFfa = new Option<bool>("--no-ffa") { Description = "compeft: plain LoRA (A and B trained and sent); default FFA-LoRA, A frozen from --seed." };
        var density = new Option<float>("--density") { Description = "compeft: fraction of each update kept, (0, 1]; 1 = dense float32 uploads.", DefaultValueFactory = _ => c.Density };
        var scaleFactor = new Option<float>("--scale-factor") { Description = "compeft: ComPEFT α, scale = α·σ(Δ); 0 = per-density default." };
        var leastSquares = new Option<bool>("--least-squares-scale") { Description = "compeft: STC scale ‖Δ_kept‖₁/k instead of α·σ." };
        var errorFeedback = new Option<bool>("--error-feedback") { Description = "compeft: clients keep a residual of what compression dropped." };
        var batchSize = new Option<int>("--batch-size") { Description = "compeft: examples per AdamW step.", DefaultValueFactory = _ => c.BatchSize };
        var aggregate = new Option<string>("--aggregate") { Description = "compeft: server merge, mean (sample-weighted FedAvg) or ties.", DefaultValueFactory = _ => "mean" };
        var rateLimit = new Option<int>("--rate-limit") { Description = "Enroll and PushUpdate calls per client per minute; more are RESOURCE_EXHAUSTED with a retry pushback (edge clients wait and retry). 0 = no limit." };
        var downlink = new Option<float>("--downlink-density") { Description = "compeft: re-compress each merged update for the downlink at this density; 0 = dense." };
        var f = new FedKSeedStrategyOptions();
        var maxAbsScalar = new Option<float>("--max-abs-scalar") { Description = "fedkseed: G, every pushed scalar must have |g| ≤ G (else INVALID_ARGUMENT; clients drop a step above it).", DefaultValueFactory = _ => f.MaxAbsScalar };
        var maxUpdateElement = new Option<float>("--max-update-element") { Description = $"compeft: U, every decoded update element must have |Δ̂ᵢ| ≤ U (else INVALID_ARGUMENT); 0 = {ComPeftStrategyOptions.DefaultMaxUpdateElementPerStep:G}·τ·η." };
        var maxSampleWeight = new Option<ulong>("--max-sample-weight") { Description = "Cap on an update's aggregation weight (its self-reported sample_count); set it near the largest honest shard.", DefaultValueFactory = _ => new FederationCoordinatorOptions().MaxSampleWeight };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Run seed: the FedKSeed seed pool's master seed, client selection and each client's per-round step seed " +
                "(`federated simulate --seed` with the same value and the server's client ids draws the same steps).",
            DefaultValueFactory = _ => 42,
        };
        var command = new Command("serve", """
            Run a federation server: gRPC (HTTP/2) with durable rounds in --data-dir. Clients join with `federated join`.
            --method fedkseed: zeroth-order rounds (seeds and scalars). --method compeft: LoRA rounds with ternary-compressed
            adapter updates (the --lora-*, --density, … options).

            Examples:
              federated serve --model models/smollm2-135m --method fedkseed --data-dir state/fed1 --rounds 50 --clients-per-round 8 --min-clients 4 --round-timeout 10m
              federated serve --model models/wordnet-base --method compeft --data-dir state/fed2 --rounds 10 --clients-per-round 2 --min-clients 2 --density 0.05
            """)
        {
            model, method, dataDir, port, rounds, perRound, minClients, timeout, tokens, cert, key, seedCount, pro, localSteps, learningRate, epsilon, seed,
            rank, alpha, targets, noFfa, density, scaleFactor, leastSquares, errorFeedback, batchSize, aggregate, downlink, rateLimit,
            maxAbsScalar, maxUpdateElement, maxSampleWeight,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string stateDir = parse.GetValue(dataDir)!.FullName;
            var methodKind = parse.GetValue(method)?.ToLowerInvariant() switch
            {
                "fedkseed" => TrainingMethodKind.FedKSeed,
                "compeft" => TrainingMethodKind.ComPeft,
                var other => throw new ArgumentException($"--method '{other}' is not fedkseed or compeft."),
            };
            string modelDir = parse.GetValue(model)!.FullName;
            var fingerprint = ModelFingerprint.Compute(modelDir);
            var aggregation = parse.GetValue(aggregate)?.ToLowerInvariant() switch
            {
                "mean" => ComPeftAggregation.Mean,
                "ties" => ComPeftAggregation.Ties,
                var other => throw new ArgumentException($"--aggregate '{other}' is not mean or ties."),
            };
            string[] targetModules = parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            bool freezeA = !parse.GetValue(noFfa);
            ulong runSeed = parse.GetValue(seed);
            // n, the flattened update length, from the model and the LoRA settings (the clients build the same adapter).
            int updateElements = methodKind == TrainingMethodKind.ComPeft
                ? AdapterUpdateSize(modelDir, parse.GetValue(rank), parse.GetValue(alpha), targetModules, freezeA, runSeed) : 0;
            Directory.CreateDirectory(stateDir);
            var tokenList = ReadTokens(parse.GetValue(tokens), stateDir);
            var endpoint = new FederationEndpoint { Port = parse.GetValue(port), CertificatePath = parse.GetValue(cert)?.FullName, KeyPath = parse.GetValue(key)?.FullName };
            endpoint.Validate();

            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = stateDir });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(endpoint.Apply);
            builder.Services.AddFederationServer(o =>
            {
                o.Method = methodKind;
                o.DataDirectory = stateDir;
                o.BaseModel = new BaseModelIdentity(fingerprint.Sha256, fingerprint.ConfigSha256, fingerprint.WeightsSha256, fingerprint.Name, fingerprint.ParameterCount);
                o.Coordinator.Rounds = parse.GetValue(rounds);
                o.Coordinator.ClientsPerRound = parse.GetValue(perRound);
                o.Coordinator.MinClients = parse.GetValue(minClients);
                o.Coordinator.RoundTimeout = DurationParser.Parse(parse.GetValue(timeout)!, "--round-timeout");
                foreach (var t in tokenList) o.Coordinator.EnrollmentTokens.Add(t);
                o.Coordinator.SelectionSeed = runSeed;
                o.Coordinator.MaxSampleWeight = parse.GetValue(maxSampleWeight);
                o.FedKSeed.MaxAbsScalar = parse.GetValue(maxAbsScalar);
                o.ComPeft.MaxUpdateElement = parse.GetValue(maxUpdateElement);
                o.RateLimitPermits = parse.GetValue(rateLimit);
                o.FedKSeed.SeedCount = parse.GetValue(seedCount);
                o.FedKSeed.Pro = parse.GetValue(pro);
                o.FedKSeed.LocalSteps = parse.GetValue(localSteps) ?? 200;
                o.FedKSeed.LearningRate = parse.GetValue(learningRate) ?? 3e-7f;
                o.FedKSeed.Epsilon = parse.GetValue(epsilon);
                o.FedKSeed.SeedPoolMasterSeed = runSeed;
                o.ComPeft.UpdateElementCount = updateElements;
                o.ComPeft.Rank = parse.GetValue(rank);
                o.ComPeft.Alpha = parse.GetValue(alpha);
                o.ComPeft.TargetModules = targetModules;
                o.ComPeft.FreezeA = freezeA;
                o.ComPeft.LoraASeed = runSeed;
                o.ComPeft.Density = parse.GetValue(density);
                o.ComPeft.ScaleFactor = parse.GetValue(scaleFactor);
                o.ComPeft.LeastSquaresScale = parse.GetValue(leastSquares);
                o.ComPeft.ErrorFeedback = parse.GetValue(errorFeedback);
                o.ComPeft.LocalSteps = parse.GetValue(localSteps) ?? o.ComPeft.LocalSteps;
                o.ComPeft.LearningRate = parse.GetValue(learningRate) ?? o.ComPeft.LearningRate;
                o.ComPeft.BatchSize = parse.GetValue(batchSize);
                o.ComPeft.Aggregation = aggregation;
                o.ComPeft.DownlinkDensity = parse.GetValue(downlink);
                // GetModel full_checkpoint: the merged global model as safetensors, built on first request per version.
                o.CheckpointSource = _ => methodKind == TrainingMethodKind.FedKSeed
                    ? new MergedModelCheckpointSource(modelDir, o.FedKSeed) : new MergedModelCheckpointSource(modelDir, o.ComPeft);
            });
            await using var app = builder.Build();
            app.MapFederationServer();
            Console.Error.WriteLine($"federated serve: {(endpoint.CertificatePath is null ? "http://127.0.0.1" : "https://0.0.0.0")}:{endpoint.Port}, " +
                $"model {fingerprint.Name} sha256 {Convert.ToHexStringLower(fingerprint.Sha256)[..16]}…, state {stateDir}. Ctrl-C stops.");
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>The length n of a ComPEFT update: the trainable tensors (B only with FFA-LoRA) of the adapter a client
    /// builds from the model with these LoRA settings (LoraUpdateLayout order).</summary>
    private static int AdapterUpdateSize(string modelDir, int rank, float alpha, string[] targetModules, bool freezeA, ulong seed)
    {
        if (targetModules.Length == 0) throw new ArgumentException("--lora-targets names no projection.");
        var lm = CausalLm.Load(modelDir);
        var config = new LoraConfig { Rank = rank, Alpha = alpha, TargetModules = targetModules, FanInFanOut = lm.Projections.Any(p => p.Conv1D) };
        return LoraUpdateLayout.Create(LoraAdapter.Create(lm, config, seed), freezeA).ElementCount;   // Create refuses targets that match nothing
    }

    /// <summary>Tokens from the file, or the one in STATE/enroll-token.txt (generated on first run, mode 0600).</summary>
    private static List<string> ReadTokens(FileInfo? file, string stateDir)
    {
        if (file is not null)
        {
            if (!file.Exists) throw new FileNotFoundException($"The enrollment token file {file.FullName} does not exist.", file.FullName);
            var list = File.ReadAllLines(file.FullName).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            if (list.Count == 0) throw new InvalidDataException($"The enrollment token file {file.FullName} has no token.");
            return list;
        }
        string path = Path.Combine(stateDir, "enroll-token.txt");
        if (!File.Exists(path))
        {
            string token = "enroll-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var writer = new StreamWriter(path, options)) writer.WriteLine(token);
            Console.Error.WriteLine($"Generated an enrollment token in {path}: {token}");
        }
        return [File.ReadAllText(path).Trim()];
    }
}
