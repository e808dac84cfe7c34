using System.CommandLine;
using Federated.Client.ComPeft;
using Federated.Client.Edge;
using Federated.Client.FedKSeed;
using Federated.Client.Networking;
using Federated.Client.Training;
using Federated.Core.Models;
using Microsoft.Extensions.Logging;

namespace Federated.Cli.Commands;

/// <summary>`federated join`: runs an edge client against a federation server until it finishes or Ctrl-C.</summary>
internal static class JoinCommand
{
    /// <summary>
    /// Builds the local trainer from the model directory and the trainer's state directory: whichever method the federation runs (the first task or model
    /// change says which, <see cref="MethodSelectingTrainer"/>), with the simulator's defaults — FedKSeed zeroth-order
    /// steps (<see cref="FedKSeedLocalTrainer"/>, max length 128, all tensors trainable, exact global weights saved in the
    /// state directory) or ComPEFT LoRA rounds
    /// (<see cref="ComPeftLocalTrainer"/>, max length 128). Returning null makes `federated join` exit 1 with a clear
    /// message (tests may swap the factory). Arguments: the model directory and the client's options, whose
    /// <see cref="EdgeClientOptions.ScratchDirectory"/> (STATE/scratch) holds FedKSeed's held-weights file and whose
    /// <see cref="EdgeClientOptions.TrainerStateDirectory"/> (STATE/model) its exact saved weights.
    /// </summary>
    internal static Func<string, EdgeClientOptions, ILocalTrainer?> TrainerFactory { get; set; } = (modelDir, options) =>
        new MethodSelectingTrainer(new FedKSeedLocalTrainer(modelDir, scratchDirectory: options.ScratchDirectory,
            stateDirectory: options.TrainerStateDirectory), new ComPeftLocalTrainer(modelDir));

    public static Command Create()
    {
        var server = new Option<Uri>("--server")
        {
            Description = "Server URL: http://HOST:PORT (h2c) or https://HOST:PORT (TLS).", Required = true,
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)) return uri;
                r.AddError($"--server '{text}' is not an http:// or https:// URL.");
                return null;
            },
        };
        var token = new Option<string>("--token") { Description = "Enrollment token from the operator (used once; the credential is kept in --state).", Required = true };
        var model = new Option<DirectoryInfo>("--model") { Description = "Base model directory (the same files as the server's).", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "This client's training shard (JSONL).", Required = true };
        var state = new Option<DirectoryInfo?>("--state") { Description = "Client state directory (identity, credential, pending update, scratch/). Default: ./.federated-client" };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary object at the end." };
        var command = new Command("join", """
            Join a federation as an edge client: enroll once, then get tasks, sync the model, train locally, push updates,
            surviving network faults and restarts (state in --state) and waiting out a server's rate limit (it retries after
            the server's pushback). Ctrl-C stops cleanly; run again to resume.

            Example:
              federated join --server http://127.0.0.1:5080 --token enroll-0123abcd --model models/wordnet-base --data shards/client-00000.jsonl --state state/client-0
            """)
        { server, token, model, data, state, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelDir = parse.GetValue(model)!;
            var shard = parse.GetValue(data)!;
            if (!modelDir.Exists) throw new DirectoryNotFoundException($"The model directory {modelDir.FullName} does not exist.");
            if (!shard.Exists) throw new FileNotFoundException($"The data shard {shard.FullName} does not exist.", shard.FullName);
            var fingerprint = ModelFingerprint.Compute(modelDir.FullName);
            var options = new EdgeClientOptions
            {
                Server = parse.GetValue(server)!, EnrollmentToken = parse.GetValue(token)!, BaseModelSha256 = fingerprint.Sha256,
                StateDirectory = parse.GetValue(state)?.FullName ?? Path.GetFullPath(".federated-client"),
            };
            HeldWeights.DeleteStale(options.ScratchDirectory);   // what a killed run of an older build left (this build's files vanish with the process)
            var trainer = TrainerFactory(modelDir.FullName, options);
            if (trainer is null)
            {
                Console.Error.WriteLine("error: no local trainer is available in this build (the FedKSeed/ComPEFT trainers are not wired into " +
                    "`federated join` yet; see JoinCommand.TrainerFactory).");
                return CliRunner.Failure;
            }
            using var trainerResources = trainer as IDisposable;
            using var loggers = LoggerFactory.Create(b => b.AddCliConsole().AddFilter("Grpc", LogLevel.Warning));
            using var channel = FederationChannel.Create(options.Server, new FederationChannelOptions(), TimeProvider.System, loggers: loggers);
            var client = new EdgeClient(channel, trainer, new DataShard(shard.FullName), options, TimeProvider.System, loggers.CreateLogger<EdgeClient>());
            try
            {
                var summary = await client.RunAsync(cancellationToken);
                if (parse.GetValue(json)) JsonOutput.Write(summary);
                else Console.Error.WriteLine($"Federation finished: {summary.RoundsPushed} rounds pushed, {summary.RoundsMissed} missed, model version {summary.ModelVersion}.");
                return CliRunner.Ok;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine("Stopped; progress is saved in the state directory. Run the same command to resume.");
                return CliRunner.Ok;
            }
        });
        return command;
    }
}
