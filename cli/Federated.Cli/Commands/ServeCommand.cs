using System.CommandLine;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Server.Checkpoints;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Host;
using Federated.Server.Parameters;
using Federated.Server.Strategies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federated.Cli.Commands;

/// <summary>`federated serve`: runs a federation server (gRPC over HTTP/2) with durable rounds in a state directory.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Base model directory (config.json + *.safetensors); its fingerprint is enforced.", Required = true };
        var federation = new FederationOptions(simulated: false);
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "State directory (federation.db, SQLite WAL); a restart resumes from it.", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 5080 };
        var minClients = new Option<int>("--min-clients") { Description = "Q: quorum; a round aggregates at Q updates, or is abandoned below Q at its deadline.", DefaultValueFactory = _ => 2 };
        var expectClients = new Option<int>("--expect-clients") { Description = "N: open a round only once N clients are connected, so every round draws M of all N (0 = Q suffice)." };
        var timeout = new Option<string>("--round-timeout") { Description = "Round deadline after opening, e.g. 90s, 10m, 2h.", DefaultValueFactory = _ => "10m" };
        var tokens = new Option<FileInfo?>("--enroll-tokens") { Description = "File of enrollment tokens, one per line ('#' comments). Default: one is generated into DATA_DIR/enroll-token.txt." };
        var cert = new Option<FileInfo?>("--cert") { Description = "PEM certificate: serve TLS on all interfaces (with --key). Without it: h2c on 127.0.0.1 only." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key of --cert." };
        var rateLimit = new Option<int>("--rate-limit") { Description = "Enroll and PushUpdate calls per client per minute; more are RESOURCE_EXHAUSTED with a retry pushback (edge clients wait and retry). 0 = no limit." };
        var maxAbsScalar = new Option<float>("--max-abs-scalar") { Description = "fedkseed: G, every pushed scalar must have |g| ≤ G (else INVALID_ARGUMENT; clients drop a step above it).", DefaultValueFactory = _ => FedKSeedStrategyOptions.DefaultMaxAbsScalar };
        var maxUpdateElement = new Option<float>("--max-update-element") { Description = $"compeft: U, every decoded update element must have |Δ̂ᵢ| ≤ U (else INVALID_ARGUMENT); 0 = {ComPeftStrategyOptions.DefaultMaxUpdateElementPerStep:G}·τ·η." };
        var maxSampleWeight = new Option<ulong>("--max-sample-weight") { Description = "Cap on an update's aggregation weight (its self-reported sample_count); set it near the largest honest shard.", DefaultValueFactory = _ => FederationCoordinatorOptions.DefaultMaxSampleWeight };
        var command = new Command("serve", """
            Run a federation server: gRPC (HTTP/2) with durable rounds in --data-dir. Clients join with `federated join`.
            --method fedkseed: zeroth-order rounds (seeds and scalars). --method compeft: LoRA rounds with ternary-compressed
            adapter updates (the --lora-*, --density, … options).

            Examples:
              federated serve --model models/smollm2-135m --method fedkseed --data-dir state/fed1 --rounds 50 --clients-per-round 8 --min-clients 4 --round-timeout 10m
              federated serve --model models/wordnet-base --method compeft --data-dir state/fed2 --rounds 10 --clients-per-round 2 --min-clients 2 --density 0.05
            """)
        {
            model, dataDir, port, minClients, expectClients, timeout, tokens, cert, key, rateLimit,
            maxAbsScalar, maxUpdateElement, maxSampleWeight,
        };
        federation.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string stateDir = parse.GetValue(dataDir)!.FullName;
            string modelDir = parse.GetValue(model)!.FullName;
            var settings = federation.Read(parse, modelDir);
            if (settings.RecommendationsLine is { } line) Console.Error.WriteLine(line);
            var fingerprint = ModelFingerprint.Compute(modelDir);
            // Refuse a model clients cannot load (shapes, non-finite weights, tokenizer) now, not on a client's first task.
            var checkedModel = ModelCheck.Load(modelDir).Model;
            // n, the flattened update length, from the model and the LoRA settings (the clients build the same adapter).
            int updateElements = settings.Method == "compeft" ? AdapterUpdateSize(checkedModel, settings.ComPeft, settings.Federation.Seed) : 0;
            checkedModel = null;   // the checkpoint source loads its own copy on the first full_checkpoint request
            Directory.CreateDirectory(stateDir);
            var (tokenList, saveGeneratedToken) = ReadTokens(parse.GetValue(tokens), stateDir);
            var endpoint = new FederationEndpoint { Port = parse.GetValue(port), CertificatePath = parse.GetValue(cert)?.FullName, KeyPath = parse.GetValue(key)?.FullName };
            endpoint.Validate();

            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = stateDir });
            builder.Logging.ClearProviders();
            builder.Logging.AddCliConsole();
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(endpoint.Apply);
            builder.Services.AddFederationServer(o =>
            {
                Configure(o, settings, updateElements);
                o.DataDirectory = stateDir;
                o.BaseModel = new BaseModelIdentity(fingerprint.Sha256, fingerprint.ConfigSha256, fingerprint.WeightsSha256, fingerprint.Name, fingerprint.ParameterCount);
                o.Coordinator.MinClients = parse.GetValue(minClients);
                o.Coordinator.ExpectedClients = parse.GetValue(expectClients);
                o.Coordinator.RoundTimeout = DurationParser.Parse(parse.GetValue(timeout)!, "--round-timeout");
                foreach (var t in tokenList) o.Coordinator.EnrollmentTokens.Add(t);
                o.Coordinator.MaxSampleWeight = parse.GetValue(maxSampleWeight);
                o.FedKSeed.MaxAbsScalar = parse.GetValue(maxAbsScalar);
                o.ComPeft.MaxUpdateElement = parse.GetValue(maxUpdateElement);
                o.RateLimitPermits = parse.GetValue(rateLimit);
                // GetModel full_checkpoint: the merged global model as safetensors, built on first request per version.
                o.CheckpointSource = _ => o.Method == TrainingMethodKind.FedKSeed
                    ? new MergedModelCheckpointSource(modelDir, o.FedKSeed) : new MergedModelCheckpointSource(modelDir, o.ComPeft);
            });
            await using var app = builder.Build();
            // Open the state now (store, settings pin, restore), so a corrupt federation.db or other settings are one
            // error line (exit 2), not a failed host start.
            app.Services.GetRequiredService<FederationCoordinator>();
            saveGeneratedToken?.Invoke();   // only once the options and the state were accepted
            app.MapFederationServer();
            Console.Error.WriteLine($"federated serve: {(endpoint.CertificatePath is null ? "http://127.0.0.1" : "https://0.0.0.0")}:{endpoint.Port}, " +
                $"model {fingerprint.Name} sha256 {Convert.ToHexStringLower(fingerprint.Sha256)[..16]}…, state {stateDir}. Ctrl-C stops.");
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>Sets the method, the rounds and every hyper-parameter of <paramref name="settings"/> (n =
    /// <paramref name="updateElements"/> for ComPEFT): what the server's tasks carry.</summary>
    internal static void Configure(FederationServerOptions o, RunSettings settings, int updateElements)
    {
        o.Method = settings.Method == "compeft" ? TrainingMethodKind.ComPeft : TrainingMethodKind.FedKSeed;
        o.Coordinator.Rounds = settings.Federation.Rounds;
        o.Coordinator.ClientsPerRound = settings.Federation.ClientsPerRound;
        o.Coordinator.SelectionSeed = settings.Federation.Seed;
        o.FedKSeed.Apply(settings.FedKSeed, settings.Federation.Seed);
        o.ComPeft.Apply(settings.ComPeft, settings.Federation.Seed, updateElements);
    }

    /// <summary>The length n of a ComPEFT update: the trainable tensors (B only with FFA-LoRA) of the adapter a client
    /// builds from the model with these LoRA settings (LoraUpdateLayout order).</summary>
    private static int AdapterUpdateSize(CausalLm lm, ComPeftSettings settings, ulong seed)
    {
        var config = new LoraConfig { Rank = settings.Rank, Alpha = settings.Alpha, TargetModules = settings.TargetModules, FanInFanOut = lm.Projections.Any(p => p.Conv1D) };
        return LoraUpdateLayout.Create(LoraAdapter.Create(lm, config, seed), settings.FreezeA).ElementCount;   // Create refuses targets that match nothing
    }

    /// <summary>Tokens from the file, or the one in STATE/enroll-token.txt. On a first run a token is generated: the
    /// returned action writes it (mode 0600) and prints it; the caller runs it once the server's options and state were
    /// accepted, so a refused start leaves no token behind.</summary>
    private static (List<string> Tokens, Action? SaveGenerated) ReadTokens(FileInfo? file, string stateDir)
    {
        if (file is not null)
        {
            if (!file.Exists) throw new FileNotFoundException($"The enrollment token file {file.FullName} does not exist.", file.FullName);
            var list = File.ReadAllLines(file.FullName).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            if (list.Count == 0) throw new InvalidDataException($"The enrollment token file {file.FullName} has no token.");
            return (list, null);
        }
        string path = Path.Combine(stateDir, "enroll-token.txt");
        if (File.Exists(path)) return ([File.ReadAllText(path).Trim()], null);
        string token = "enroll-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        return ([token], () =>
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var writer = new StreamWriter(path, options)) writer.WriteLine(token);
            Console.Error.WriteLine($"Generated an enrollment token in {path}: {token}");
        });
    }
}
