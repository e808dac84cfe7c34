using System.Diagnostics;
using Federated.Data.Training;
using Federated.Protocol.V1;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Storage;
using Federated.Server.Strategies;
using Federated.Simulation.Capture;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Federated.Simulation.Federation;

/// <summary>What one simulated client did in its round, as <see cref="SimulatedFederation{TParameters}"/> needs it.</summary>
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

/// <summary>A round's task as one client received it from GetTask.</summary>
/// <param name="Client">The client's index (its shard; keys state a real client keeps, e.g. an error-feedback residual).</param>
/// <param name="ClientId">The id the coordinator gave it at enrollment.</param>
/// <param name="RoundId">The round.</param>
/// <param name="ModelVersion">The global model version the round trains from.</param>
/// <param name="Parameters">The method's hyper-parameters of the round.</param>
/// <param name="StreamSeed">The coordinator's per-(client, round) seed (the wire's step_seed): the client's batch or step stream.</param>
internal sealed record ClientTask<TParameters>(int Client, string ClientId, long RoundId, long ModelVersion, TParameters Parameters,
    ulong StreamSeed) where TParameters : RoundParameters;

/// <summary>
/// The client work of a round, the seam a distributed simulation plugs into: a function of (task, the global model
/// at task.ModelVersion, the client's shard) → its update. In process the model at that version is the method's
/// one global model (<see cref="ISimulatedMethod{TParameters}.Apply"/> keeps it at the latest version, which is every
/// task's version); a worker elsewhere builds it from the base model and <see cref="IFederationTransport.GetModel"/>.
/// </summary>
internal interface IClientWork<TParameters> where TParameters : RoundParameters
{
    /// <summary>Client <c>task.Client</c> trains from the global model at <c>task.ModelVersion</c> on <paramref name="shard"/>
    /// with stream seed <c>task.StreamSeed</c> and encodes its update. Timed as the client's work.</summary>
    ClientWork Train(ClientTask<TParameters> task, ShardView shard);
}

/// <summary>
/// The part of a simulated federation that is the method's own; <see cref="SimulatedFederation{TParameters}"/> does the rest.
/// </summary>
/// <typeparam name="TParameters">The strategy's round parameters (what ConfigureRound returns).</typeparam>
internal interface ISimulatedMethod<TParameters> : IClientWork<TParameters> where TParameters : RoundParameters
{
    /// <summary>The version the method's global model is at.</summary>
    long GlobalVersion { get; }

    /// <summary>Sets the method's part of a RoundTask whose envelope is already filled: Method and its hyper-parameters
    /// (with the client's step seed).</summary>
    void DescribeTask(RoundTask task, TParameters parameters, ulong stepSeed);

    /// <summary>The ModelChunk content carrying <paramref name="delta"/> (kind, version, payload), or null when a client
    /// gets nothing for it; the round stamps format version, last and the fingerprint.</summary>
    ModelChunk? SyncChunk(ModelDelta delta);

    /// <summary>Brings the global model from <see cref="GlobalVersion"/> to <c>delta.ToVersion</c>. Timed as the
    /// round's replay/apply seconds.</summary>
    void Apply(ModelDelta delta);

    /// <summary>Evaluates the current global model (restoring it into the working model first where needed).</summary>
    ModelQuality Evaluate(bool generate, Action<int, int>? progress = null);
}

/// <summary>
/// A federation in one process, run by the server's own <see cref="FederationCoordinator"/>: N simulated clients
/// enroll under their names (ids, selection of M of N, per-client seeds and aggregation order are the coordinator's,
/// exactly as for `federated join` processes with those names), poll GetTask, and the selected ones download their
/// sync (GetModel), train (<see cref="IClientWork{TParameters}"/>) and PushUpdate, all through an
/// <see cref="IFederationTransport"/>; the push that reaches the quorum (M: every selected client) aggregates the round
/// inside the coordinator. The store is SQLite on <see cref="SimulationOptions.StatePath"/>, else in memory; time is a
/// <see cref="SimulatedClock"/> that stands still (every client polls every round, so all N stay connected). Sizes are
/// the real protobuf messages' serialized sizes. Simulated clients hold their id, credential and last synced version,
/// never a model.
/// </summary>
internal sealed class SimulatedFederation<TParameters> : IDisposable where TParameters : RoundParameters
{
    private const string EnrollmentToken = "simulation";
    private readonly SimulationOptions _options;
    private readonly SimulationSetup _setup;
    private readonly CaptureWriter? _capture;
    private readonly ISimulatedMethod<TParameters> _method;
    private readonly BaseModelFingerprint _fingerprint;
    private readonly IFederationStore _store;
    private readonly FederationCoordinator _coordinator;
    private readonly ErrorRecordingLogger _log = new();
    private readonly IFederationTransport _transport;
    private readonly (string Id, string Bearer)[] _clients;
    private readonly long[] _clientVersion;

    /// <param name="options">The run's options (seed, population, evaluation schedule, client names, store path).</param>
    /// <param name="strategy">The server's strategy (configures, validates, aggregates, keeps the versions).</param>
    /// <param name="setup">The base model (its parameter count goes into the fingerprint), the encoded training examples
    /// and each client's indices into them.</param>
    /// <param name="capture">Capture of what the server receives, or null.</param>
    /// <param name="method">The method's part of a round.</param>
    public SimulatedFederation(SimulationOptions options, IFederationStrategy strategy, SimulationSetup setup,
        CaptureWriter? capture, ISimulatedMethod<TParameters> method)
    {
        (_options, _setup, _capture, _method) = (options, setup, capture, method);
        _fingerprint = Fingerprint(setup.Model.Weights.Length);
        var coordinatorOptions = new FederationCoordinatorOptions
        {
            Rounds = options.Rounds, ClientsPerRound = options.ClientsPerRound, MinClients = options.ClientsPerRound,
            ExpectedClients = options.Clients, SelectionSeed = options.Seed, Name = "simulation",
        };
        coordinatorOptions.EnrollmentTokens.Add(EnrollmentToken);
        _store = FederationStores.Open(options.StatePath is null ? FederationStores.Memory : FederationStores.SqlitePrefix + options.StatePath);
        _coordinator = new FederationCoordinator(_store, strategy, coordinatorOptions, new SimulatedClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)), _log);
        _transport = new InProcessTransport(_coordinator);
        string software = typeof(SimulatedFederation<>).Assembly.GetName().Version?.ToString() ?? "0";
        _clients = [.. Enumerable.Range(0, options.Clients).Select(c =>
        {
            var enrolled = _transport.Enroll(EnrollmentToken, new ClientDescription(options.ClientName(c), "simulation", software,
                (ulong)setup.Shards[c].Length, [strategy.Method]));
            return (enrolled.ClientId, enrolled.BearerToken);
        })];
        if (_clients.Select(c => c.Id).Distinct(StringComparer.Ordinal).Count() != _clients.Length)
            throw new ArgumentException("Two client names were given the same client id; use distinct names.", nameof(options));
        _clientVersion = new long[options.Clients];
    }

    /// <summary>The id the coordinator gave client <paramref name="client"/>.</summary>
    public string ClientId(int client) => _clients[client].Id;

    /// <summary>Client <paramref name="client"/>'s batch or step stream seed in a round: the step_seed the coordinator
    /// sends it (FederationCoordinator.ClientRoundSeed(seed, round, id)).</summary>
    public ulong StreamSeed(long round, int client) => FederationCoordinator.ClientRoundSeed(_options.Seed, round, ClientId(client));

    /// <summary>Runs round <paramref name="round"/> (rounds must be run in order 1, 2, …); reports (done, selected)
    /// after each client.</summary>
    public RoundMetrics Run(long round, Action<int, int>? clientProgress = null)
    {
        var clock = Stopwatch.StartNew();
        var tasks = PollTasks(round);
        long version = tasks[0].Task.ModelVersion;
        if (version != _method.GlobalVersion)
            throw new InvalidOperationException($"Round {round} trains from version {version}; the global model is at {_method.GlobalVersion}.");
        long bytesUp = 0, bytesDown = 0;
        double clientSeconds = 0, lossSum = 0;
        int dropped = 0;
        for (int i = 0; i < tasks.Count; i++)
        {
            var (client, assignment) = tasks[i];
            var (clientId, bearer) = _clients[client];
            var parameters = (TParameters)assignment.Parameters!;
            bytesDown += DownlinkBytes(assignment, parameters, _transport.GetModel(bearer, _clientVersion[client]));
            _clientVersion[client] = version;
            var clientClock = Stopwatch.StartNew();
            var shard = new ShardView(_setup.Train, _setup.Shards[client]);
            var work = _method.Train(new ClientTask<TParameters>(client, clientId, round, version, parameters, assignment.ClientRoundSeed), shard);
            clientSeconds += clientClock.Elapsed.TotalSeconds;
            dropped += work.DroppedSteps;
            lossSum += work.MeanLoss;
            var update = work.Update;
            (update.FormatVersion, update.ClientId, update.RoundId, update.ModelVersion, update.SampleCount) =
                (1, clientId, (ulong)round, (ulong)version, (ulong)shard.Count);
            bytesUp += update.CalculateSize();
            _transport.PushUpdate(bearer, new UpdateSubmission(clientId, round, version, (ulong)shard.Count, work.Payload, NoMetrics));
            _capture?.Update(round, version, clientId, (ulong)shard.Count, work.Payload,
                new ClientSecret(work.LocalSteps, work.SamplingRate, [.. work.ExampleIndices.Select(j => _setup.Shards[client][j])]));
            clientProgress?.Invoke(i + 1, tasks.Count);
        }
        if (_store.LatestVersion() != version + 1)
            throw new InvalidOperationException($"Round {round} was not aggregated: {_log.LastError?.Message ?? "the coordinator abandoned it"}", _log.LastError);
        _capture?.Commit(round, version, _store.ListUpdates(round), _store.ListVersions()[^1].Payload);

        var applyClock = Stopwatch.StartNew();
        _method.Apply(_transport.GetModel(_clients[0].Bearer, version));
        double applySeconds = applyClock.Elapsed.TotalSeconds;

        double? evalLoss = EvaluatesAfter(round, _options) ? _method.Evaluate(generate: false).EvalLoss : null;
        return new RoundMetrics(round, tasks.Count, lossSum / tasks.Count, evalLoss, null, null,
            (double)bytesUp / tasks.Count, (double)bytesDown / tasks.Count, dropped, clock.Elapsed.TotalSeconds, applySeconds,
            clientSeconds / tasks.Count);
    }

    /// <summary>Every client polls GetTask: the poll that finds all N connected opens the round, so clients that
    /// polled before it poll once more. Returns the selected clients' tasks in client-id order (the order the store
    /// lists updates in, so the capture's lines are in aggregation order).</summary>
    private List<(int Client, TaskAssignment Task)> PollTasks(long round)
    {
        var tasks = new Dictionary<int, TaskAssignment>();
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < _clients.Length; c++)
            {
                if (tasks.ContainsKey(c)) continue;
                var task = _transport.GetTask(_clients[c].Bearer);
                if (task.Availability == TaskAvailabilityKind.Finished)
                    throw new InvalidOperationException($"The federation finished before round {round} ({_options.Rounds} rounds).");
                if (task.Availability == TaskAvailabilityKind.Assigned) tasks[c] = task;
            }
        if (tasks.Count != _options.ClientsPerRound || tasks.Values.Any(t => t.RoundId != round))
            throw new InvalidOperationException($"Round {round} did not open with {_options.ClientsPerRound} clients " +
                $"(got {tasks.Count} tasks for round(s) {string.Join(",", tasks.Values.Select(t => t.RoundId).Distinct())}); rounds run in order 1, 2, ….");
        return [.. tasks.Select(kv => (kv.Key, kv.Value)).OrderBy(t => _clients[t.Key].Id, StringComparer.Ordinal)];
    }

    /// <summary>Whether the global model's loss is evaluated after round <paramref name="round"/>: every EvalEvery
    /// rounds and after the last.</summary>
    internal static bool EvaluatesAfter(long round, SimulationOptions options) => round % options.EvalEvery == 0 || round == options.Rounds;

    /// <summary>
    /// Serialized size of what a client downloads for a round: its RoundTask (envelope + the method's hyper-parameters)
    /// and the ModelChunk of its sync <paramref name="delta"/> (none when the method sends nothing for it), each with the
    /// base-model fingerprint.
    /// </summary>
    private long DownlinkBytes(TaskAssignment assignment, TParameters parameters, ModelDelta delta)
    {
        var task = new RoundTask
        {
            FormatVersion = 1, Availability = TaskAvailability.Assigned, RoundId = (ulong)assignment.RoundId,
            ModelVersion = (ulong)assignment.ModelVersion, BaseModel = _fingerprint,
            Deadline = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(assignment.Deadline),
        };
        _method.DescribeTask(task, parameters, assignment.ClientRoundSeed);
        if (_method.SyncChunk(delta) is not { } chunk) return task.CalculateSize();
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

    private static readonly IReadOnlyDictionary<string, double> NoMetrics = new Dictionary<string, double>();

    /// <summary>Stops the coordinator and closes the store.</summary>
    public void Dispose()
    {
        _coordinator.Dispose();
        _store.Dispose();
    }

    /// <summary>Keeps the coordinator's last error (an aggregation that failed abandons the round; the simulation reports why).</summary>
    private sealed class ErrorRecordingLogger : ILogger<FederationCoordinator>
    {
        public Exception? LastError { get; private set; }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) LastError = exception ?? new InvalidOperationException(formatter(state, exception));
        }
    }
}
