using System.Diagnostics;
using Federated.Data.Training;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Strategies;
using Federated.Simulation.Capture;
using Google.Protobuf;

namespace Federated.Simulation;

/// <summary>What one simulated client did in its round, as <see cref="SimulatedRounds{TParameters}"/> needs it.</summary>
/// <param name="Payload">The method's canonical wire bytes, pushed to the server as they are.</param>
/// <param name="Update">A ClientUpdate holding only the payload field (seed_scalars or compressed); the round stamps its
/// envelope (format version, client id, round, model version, sample count) before sizing it.</param>
/// <param name="MeanLoss">Mean local training loss of the client's steps.</param>
/// <param name="DroppedSteps">Local steps dropped for non-finite losses.</param>
/// <param name="LocalSteps">Local steps the client ran (capture ground truth).</param>
/// <param name="SamplingRate">q per step (capture ground truth).</param>
/// <param name="ExampleIndices">Shard-local indices of the examples trained on, in step order.</param>
internal sealed record ClientWork(byte[] Payload, ClientUpdate Update, double MeanLoss, int DroppedSteps, int LocalSteps,
    double SamplingRate, int[] ExampleIndices);

/// <summary>
/// The part of a simulated round that is the method's own; <see cref="SimulatedRounds{TParameters}"/> does the rest.
/// </summary>
/// <typeparam name="TParameters">The strategy's round parameters (what ConfigureRound returns).</typeparam>
internal interface ISimulatedMethod<in TParameters> where TParameters : RoundParameters
{
    /// <summary>Sets the method's part of a RoundTask whose envelope is already filled: Method and its hyper-parameters.</summary>
    void DescribeTask(RoundTask task, TParameters parameters);

    /// <summary>The ModelChunk content that brings a client at <paramref name="sinceVersion"/> up to date (kind, version,
    /// payload), or null when there is nothing to send; the round stamps format version, last and the fingerprint.</summary>
    ModelChunk? SyncChunk(long sinceVersion);

    /// <summary>Client <paramref name="client"/> trains from the global state on <paramref name="shard"/> with batch or
    /// step stream <paramref name="streamSeed"/> and encodes its update. Timed as the client's work.</summary>
    ClientWork TrainClient(long round, TParameters parameters, int client, ShardView shard, ulong streamSeed);

    /// <summary>Applies the version committed on top of <paramref name="baseVersion"/> to the global state. Timed as the
    /// round's replay/apply seconds.</summary>
    void ApplyVersion(long baseVersion, TParameters parameters);

    /// <summary>Evaluates the current global model (restoring it into the working model first where needed).</summary>
    ModelQuality Evaluate(bool generate, Action<int, int>? progress = null);
}

/// <summary>
/// The round loop both simulations share, done as a deployment does it: configure the round on the strategy, select
/// M of N clients, and for each selected client count its download (RoundTask + ModelChunk since its last version),
/// let it train, count its ClientUpdate and push its payload to an <see cref="InProcessRound"/>; then commit, apply the
/// new version to the global state and evaluate every EvalEvery rounds and after the last. The method supplies only
/// what differs (<see cref="ISimulatedMethod{TParameters}"/>). Sizes are the real protobuf messages' serialized sizes.
/// State: each client's last synced version (8 bytes per client); the current version is the strategy's.
/// </summary>
internal sealed class SimulatedRounds<TParameters> where TParameters : RoundParameters
{
    private readonly SimulationOptions _options;
    private readonly IFederationStrategy _strategy;
    private readonly SimulationSetup _setup;
    private readonly CaptureWriter? _capture;
    private readonly ISimulatedMethod<TParameters> _method;
    private readonly BaseModelFingerprint _fingerprint;
    private readonly long[] _clientVersion;

    /// <param name="options">The run's options (seed, population, evaluation schedule, client ids).</param>
    /// <param name="strategy">The server's strategy (configures, validates, aggregates, keeps the versions).</param>
    /// <param name="setup">The base model (its parameter count goes into the fingerprint), the encoded training examples
    /// and each client's indices into them.</param>
    /// <param name="capture">Capture of what the server receives, or null.</param>
    /// <param name="method">The method's part of a round.</param>
    public SimulatedRounds(SimulationOptions options, IFederationStrategy strategy, SimulationSetup setup,
        CaptureWriter? capture, ISimulatedMethod<TParameters> method)
    {
        (_options, _strategy, _setup, _capture, _method) = (options, strategy, setup, capture, method);
        _fingerprint = Fingerprint(setup.Model.Weights.Length);
        _clientVersion = new long[options.Clients];
    }

    /// <summary>Runs round <paramref name="round"/> (rounds must be run in order 1, 2, …); reports (done, selected)
    /// after each client.</summary>
    public RoundMetrics Run(long round, Action<int, int>? clientProgress = null)
    {
        var clock = Stopwatch.StartNew();
        long version = _strategy.LatestVersion;
        var parameters = (TParameters)_strategy.ConfigureRound(round, version);
        var selected = ClientPopulation.Select(_options.Seed, round, _options.Clients, _options.ClientsPerRound);
        var serverRound = new InProcessRound(_strategy, parameters, round, version, _capture);
        long bytesUp = 0, bytesDown = 0;
        double clientSeconds = 0, lossSum = 0;
        int dropped = 0;
        for (int i = 0; i < selected.Length; i++)
        {
            int client = selected[i];
            string clientId = _options.ClientId(client);
            bytesDown += DownlinkBytes(round, version, parameters, _clientVersion[client]);
            _clientVersion[client] = version;
            var clientClock = Stopwatch.StartNew();
            var shard = new ShardView(_setup.Train, _setup.Shards[client]);
            var work = _method.TrainClient(round, parameters, client, shard, StreamSeed(_options, round, client));
            clientSeconds += clientClock.Elapsed.TotalSeconds;
            dropped += work.DroppedSteps;
            lossSum += work.MeanLoss;
            var update = work.Update;
            (update.FormatVersion, update.ClientId, update.RoundId, update.ModelVersion, update.SampleCount) =
                (1, clientId, (ulong)round, (ulong)version, (ulong)shard.Count);
            bytesUp += update.CalculateSize();
            serverRound.Push(clientId, (ulong)shard.Count, work.Payload,
                new ClientSecret(work.LocalSteps, work.SamplingRate, [.. work.ExampleIndices.Select(j => _setup.Shards[client][j])]));
            clientProgress?.Invoke(i + 1, selected.Length);
        }
        serverRound.Commit();

        var applyClock = Stopwatch.StartNew();
        _method.ApplyVersion(version, parameters);
        double applySeconds = applyClock.Elapsed.TotalSeconds;

        double? evalLoss = EvaluatesAfter(round, _options) ? _method.Evaluate(generate: false).EvalLoss : null;
        return new RoundMetrics(round, selected.Length, lossSum / selected.Length, evalLoss, null, null,
            (double)bytesUp / selected.Length, (double)bytesDown / selected.Length, dropped, clock.Elapsed.TotalSeconds, applySeconds,
            clientSeconds / selected.Length);
    }

    /// <summary>Whether the global model's loss is evaluated after round <paramref name="round"/>: every EvalEvery
    /// rounds and after the last.</summary>
    internal static bool EvaluatesAfter(long round, SimulationOptions options) => round % options.EvalEvery == 0 || round == options.Rounds;

    /// <summary>Client <paramref name="client"/>'s batch or step stream seed in a round: the server's step_seed rule,
    /// FederationCoordinator.ClientRoundSeed(seed, round, id), so a networked run with these ids trains identically.</summary>
    internal static ulong StreamSeed(SimulationOptions options, long round, int client) =>
        Server.Coordination.FederationCoordinator.ClientRoundSeed(options.Seed, round, options.ClientId(client));

    /// <summary>
    /// Serialized size of what a client at <paramref name="sinceVersion"/> downloads for a round that trains from
    /// <paramref name="version"/>: its RoundTask (envelope
    /// + the method's hyper-parameters) and the ModelChunk that syncs it (none when it is up to date, for methods that
    /// send nothing then), each with the base-model fingerprint.
    /// </summary>
    private long DownlinkBytes(long round, long version, TParameters parameters, long sinceVersion)
    {
        var task = new RoundTask
        {
            FormatVersion = 1, Availability = TaskAvailability.Assigned, RoundId = (ulong)round,
            ModelVersion = (ulong)version, BaseModel = _fingerprint,
            Deadline = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddYears(60)),
        };
        _method.DescribeTask(task, parameters);
        if (_method.SyncChunk(sinceVersion) is not { } chunk) return task.CalculateSize();
        (chunk.FormatVersion, chunk.Last, chunk.BaseModel) = (1, true, _fingerprint);
        return task.CalculateSize() + chunk.CalculateSize();
    }

    /// <summary>The base-model fingerprint a simulated message carries: three SHA-256 (32 zero bytes each, the size of
    /// real ones) and the parameter count.</summary>
    private static BaseModelFingerprint Fingerprint(long parameterCount) => new()
    {
        Sha256 = ByteString.CopyFrom(new byte[32]), ConfigSha256 = ByteString.CopyFrom(new byte[32]),
        WeightsSha256 = ByteString.CopyFrom(new byte[32]), ParameterCount = (ulong)parameterCount,
    };
}
