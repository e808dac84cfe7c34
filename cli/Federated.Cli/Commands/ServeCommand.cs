using System.CommandLine;
using Federated.Server.Domain;
using Federated.Server.Host;
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
        var seedCount = new Option<int>("--seed-count") { Description = "FedKSeed K (candidate seeds).", DefaultValueFactory = _ => 1024 };
        var localSteps = new Option<int>("--local-steps") { Description = "FedKSeed τ (zeroth-order steps per round).", DefaultValueFactory = _ => 200 };
        var learningRate = new Option<float>("--learning-rate") { Description = "FedKSeed η.", DefaultValueFactory = _ => 3e-7f };
        var epsilon = new Option<float>("--epsilon") { Description = "FedKSeed ε.", DefaultValueFactory = _ => 1e-3f };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Run seed: the FedKSeed seed pool's master seed, client selection and each client's per-round step seed " +
                "(`federated simulate --seed` with the same value and the server's client ids draws the same steps).",
            DefaultValueFactory = _ => 42,
        };
        var command = new Command("serve", """
            Run a federation server: gRPC (HTTP/2) with durable rounds in --data-dir. Clients join with `federated join`.

            Example:
              federated serve --model models/smollm2-135m --method fedkseed --data-dir state/fed1 --rounds 50 --clients-per-round 8 --min-clients 4 --round-timeout 10m
            """)
        { model, method, dataDir, port, rounds, perRound, minClients, timeout, tokens, cert, key, seedCount, localSteps, learningRate, epsilon, seed };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string stateDir = parse.GetValue(dataDir)!.FullName;
            var methodKind = parse.GetValue(method)?.ToLowerInvariant() switch
            {
                "fedkseed" => TrainingMethodKind.FedKSeed,
                "compeft" => TrainingMethodKind.ComPeft,
                var other => throw new ArgumentException($"--method '{other}' is not fedkseed or compeft."),
            };
            if (methodKind == TrainingMethodKind.ComPeft)
                throw new NotSupportedException("--method compeft: the ComPEFT server strategy is not built yet; use --method fedkseed.");
            var fingerprint = ModelFingerprint.Compute(parse.GetValue(model)!.FullName);
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
                o.FedKSeed.SeedCount = parse.GetValue(seedCount);
                o.FedKSeed.LocalSteps = parse.GetValue(localSteps);
                o.FedKSeed.LearningRate = parse.GetValue(learningRate);
                o.FedKSeed.Epsilon = parse.GetValue(epsilon);
                o.FedKSeed.SeedPoolMasterSeed = parse.GetValue(seed);
                o.Coordinator.SelectionSeed = parse.GetValue(seed);
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
