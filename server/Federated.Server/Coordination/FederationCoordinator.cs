using System.Security.Cryptography;
using System.Text;
using Federated.Core.Generation;
using Federated.Server.Domain;
using Federated.Server.Storage;
using Federated.Server.Strategies;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Federated.Server.Coordination;

/// <summary>
/// The federation's round state machine and client registry, method-agnostic (the maths is the
/// <see cref="IFederationStrategy"/>'s) and transport-agnostic (Server.Host adapts gRPC to these calls).
/// <para>Rounds: when no round is running and ≥ Q clients are connected (polled within the liveness window), a round
/// opens with M of them, chosen deterministically from (SelectionSeed, round id, client ids) — immediately if every
/// enrolled client is connected, otherwise SelectionWindow after the quorum first was. Selected clients get the task until they push; the round is
/// aggregated (one store transaction: version + close) as soon as Q updates are accepted; stragglers then get
/// FAILED_PRECONDITION. At the deadline a round below quorum is abandoned and the next opens; so is a round whose
/// selected clients declined (<see cref="DeclineTask"/>) until the rest can no longer reach the quorum.</para>
/// <para>Time moves only through the injected <see cref="TimeProvider"/>: deadlines are checked on every call and by
/// <see cref="Tick"/>, which a host calls periodically. Calls are serialised by one lock; the store is the truth, so
/// a restart resumes from it (in-memory: only liveness, rebuilt as clients poll).</para>
/// </summary>
public sealed class FederationCoordinator : IDisposable
{
    private readonly IFederationStore _store;
    private readonly IFederationStrategy _strategy;
    private readonly FederationCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _enrollmentTokenHashes;
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _declined = new(StringComparer.Ordinal);   // client → reason, current round (in memory)
    private DateTimeOffset? _quorumConnectedSince;
    private RoundRecord? _current;            // latest round while not closed
    private RoundParameters? _currentParameters;
    private bool _aggregating;
    private bool _disposed;

    public FederationCoordinator(IFederationStore store, IFederationStrategy strategy, FederationCoordinatorOptions options,
        TimeProvider time, ILogger<FederationCoordinator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _store = store;
        _strategy = strategy;
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger<FederationCoordinator>.Instance;
        _enrollmentTokenHashes = options.EnrollmentTokens.Select(t => Convert.ToHexString(Hash(t))).ToHashSet(StringComparer.Ordinal);

        _strategy.Restore(_store.ListVersions());
        var latest = _store.LatestRound();
        if (latest is { Phase: not RoundPhase.Closed })
        {
            // Aggregating is never durable (aggregation commits in one transaction), so a round found open resumes as is.
            _current = latest;
            _currentParameters = _strategy.ConfigureRound(latest.RoundId, latest.BaseVersion);
        }
        CoordinatorLog.Resumed(_logger, _store.FederationId, latest?.RoundId ?? 0, _store.LatestVersion(), _store.CountClients());
        // A crash between committing the quorum-reaching update and committing the aggregation leaves the round open
        // with ≥ Q updates: aggregate it now instead of at its deadline.
        AggregateIfQuorumLocked(_time.GetUtcNow());
    }

    /// <summary>Shortest client-proposed bearer token (characters): 32 base64url characters carry 192 bits.</summary>
    public const int MinProposedBearerLength = 32;

    public string FederationId => _store.FederationId;
    public TrainingMethodKind Method => _strategy.Method;
    public FederationCoordinatorOptions Options => _options;

    /// <summary>Exchanges an enrollment token for a new client id and its bearer credential: <paramref name="proposedBearer"/>
    /// (the client's own, from a CSPRNG) or a generated one. A name is enrolled once per token: enrolling it again is
    /// ALREADY_EXISTS and changes nothing — unless the request proposes that client's credential, which makes it a retry
    /// of the same enrollment (its answer was lost) and returns the same id. So only the holder of a client's credential
    /// ever acts as that client; credentials are never rotated.</summary>
    public EnrollmentResult Enroll(string enrollmentToken, ClientDescription client, string? proposedBearer = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var tokenHash = Hash(enrollmentToken ?? "");
        if (string.IsNullOrEmpty(enrollmentToken) || !_enrollmentTokenHashes.Contains(Convert.ToHexString(tokenHash)))
            throw new FederationException(FederationError.Unauthenticated, "The enrollment token is unknown.");
        if (string.IsNullOrWhiteSpace(client.Name) || Encoding.UTF8.GetByteCount(client.Name) > 128)
            throw FederationException.Invalid("client.name must be 1 to 128 UTF-8 bytes.");
        if (!client.SupportedMethods.Contains(_strategy.Method))
            throw FederationException.Precondition($"The client does not support this federation's method {_strategy.Method}.");

        if (proposedBearer is not null && (proposedBearer.Length is < MinProposedBearerLength or > 256 || proposedBearer.Any(c => c is < '!' or > '~')))
            throw FederationException.Invalid($"bearer_token must be {MinProposedBearerLength} to 256 visible ASCII characters from a CSPRNG, or unset.");
        string bearer = proposedBearer ?? "fk_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        byte[] credentialHash = Hash(bearer);
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_store.FindClientByEnrollment(tokenHash, client.Name) is { } existing)
            {
                if (proposedBearer is null || !CryptographicOperations.FixedTimeEquals(existing.CredentialHash, credentialHash))
                    throw new FederationException(FederationError.AlreadyExists,
                        $"A client named \"{client.Name}\" is already enrolled; that client goes on with the credential it was given, " +
                        "and a new client must enroll under another name.");
                if (existing.Revoked) throw new FederationException(FederationError.PermissionDenied, $"Client {existing.ClientId} is revoked.");
                return new EnrollmentResult(existing.ClientId, bearer);   // the holder retrying its own enrollment
            }
            if (proposedBearer is not null && _store.FindClientByCredential(credentialHash) is not null)
                throw new FederationException(FederationError.AlreadyExists, "The proposed bearer_token is already in use; propose a fresh random one.");
            var record = new ClientRecord(NewClientIdLocked(tokenHash, client.Name), client.Name, tokenHash,
                credentialHash, _time.GetUtcNow(), false);
            _store.SaveClient(record);
            CoordinatorLog.Enrolled(_logger, record.ClientId, record.Name);
            return new EnrollmentResult(record.ClientId, bearer);
        }
    }

    /// <summary>
    /// The id of a newly enrolled client: <c>c-</c> + 16 hex digits of SHA-256("federated-client\0" + name), so a client
    /// named the same gets the same id in every federation (a simulation that enrolls its clients under the names of a
    /// networked run's clients selects, seeds and orders them as that run does). If another enrollment token already
    /// holds that id, the id is derived from (token, name) instead, so one token's clients can never take over
    /// another's; ids stay deterministic either way.
    /// </summary>
    private string NewClientIdLocked(byte[] tokenHash, string name)
    {
        string id = ClientIdForName(name);
        if (_store.FindClient(id) is null) return id;
        return "c-" + Convert.ToHexStringLower(SHA256.HashData([.. tokenHash, .. Encoding.UTF8.GetBytes(name)]).AsSpan(0, 8));
    }

    /// <summary>The id a client enrolled under <paramref name="name"/> gets (unless that id is taken by another
    /// enrollment token's client): c- + the first 8 bytes of SHA-256("federated-client\0" + name), lowercase hex.</summary>
    public static string ClientIdForName(string name) =>
        "c-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("federated-client\0" + name)).AsSpan(0, 8));

    /// <summary>The client id a bearer credential belongs to.</summary>
    /// <exception cref="FederationException">UNAUTHENTICATED (unknown) or PERMISSION_DENIED (revoked).</exception>
    public string Authenticate(string bearerToken)
    {
        if (string.IsNullOrEmpty(bearerToken))
            throw new FederationException(FederationError.Unauthenticated, "The bearer token is missing.");
        ClientRecord? client;
        lock (_gate)
        {
            ThrowIfDisposed();
            client = _store.FindClientByCredential(Hash(bearerToken));
        }
        if (client is null) throw new FederationException(FederationError.Unauthenticated, "The bearer token is unknown.");
        if (client.Revoked) throw new FederationException(FederationError.PermissionDenied, $"Client {client.ClientId} is revoked.");
        return client.ClientId;
    }

    /// <summary>The current round's work for <paramref name="clientId"/>: the same task on every call until it pushes,
    /// WAIT when not selected or between rounds, FINISHED after the last round. Marks the client connected.</summary>
    public TaskAssignment GetTask(string clientId)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _time.GetUtcNow();
            _lastSeen[clientId] = now;
            AdvanceLocked(now);
            if (IsFinishedLocked()) return TaskAssignment.Finished();
            if (_current is null) TryOpenRoundLocked(now);
            if (_current is not { } round) return TaskAssignment.Wait(_options.PollInterval);
            if (round.SelectedClients.Contains(clientId, StringComparer.Ordinal) && !_declined.ContainsKey(clientId)
                && _store.FindUpdate(clientId, round.RoundId) is null)
                return new TaskAssignment(TaskAvailabilityKind.Assigned, round.RoundId, round.BaseVersion, _currentParameters,
                    round.Deadline, ClientRoundSeed(round.RoundId, clientId), TimeSpan.Zero);
            var untilDeadline = round.Deadline - now;
            return TaskAssignment.Wait(untilDeadline > TimeSpan.Zero && untilDeadline < _options.PollInterval ? untilDeadline : _options.PollInterval);
        }
    }

    /// <summary>The change from <paramref name="sinceVersion"/> to the latest model version.</summary>
    public ModelDelta GetModel(string clientId, long sinceVersion)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _lastSeen[clientId] = _time.GetUtcNow();
            return _strategy.GetModelDelta(sinceVersion);
        }
    }

    /// <summary>Accepts one round's update, idempotently by (client, round): the same payload again returns the first
    /// receipt with Duplicate = true (even after the round closed); a different one is ALREADY_EXISTS. Accepting and
    /// recording is one transaction; reaching the quorum aggregates the round before returning.</summary>
    public UpdateReceiptInfo PushUpdate(UpdateSubmission update)
    {
        ArgumentNullException.ThrowIfNull(update);
        byte[] sha = SHA256.HashData(update.Payload.Span);
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _time.GetUtcNow();
            AdvanceLocked(now);
            var existing = _store.FindUpdate(update.ClientId, update.RoundId);
            if (existing is not null)
            {
                if (!CryptographicOperations.FixedTimeEquals(existing.Sha256, sha))
                    throw Refuse(update, new FederationException(FederationError.AlreadyExists,
                        $"Client {update.ClientId} already has a different update accepted for round {update.RoundId}."));
                CoordinatorLog.DuplicateUpdate(_logger, update.RoundId, update.ClientId);
                AggregateIfQuorumLocked(now);   // the first push may have reached the quorum without aggregating (a failure in between)
                return new UpdateReceiptInfo(update.RoundId, true, existing.Sha256, existing.AcceptedAt);
            }
            if (_current is not { } round || round.RoundId != update.RoundId)
                throw Refuse(update, FederationException.Precondition(
                    $"round_id {update.RoundId} is not open; the open round is {(_current is null ? "none" : _current.RoundId)}."));
            if (!round.SelectedClients.Contains(update.ClientId, StringComparer.Ordinal))
                throw Refuse(update, FederationException.Precondition($"Client {update.ClientId} was not selected for round {round.RoundId}."));
            if (update.ModelVersion != round.BaseVersion)
                throw Refuse(update, FederationException.Precondition(
                    $"model_version {update.ModelVersion} differs from round {round.RoundId}'s model version {round.BaseVersion}."));
            if (update.SampleCount is 0 or > int.MaxValue)
                throw Refuse(update, FederationException.Invalid($"sample_count is {update.SampleCount}; it must be in [1, {int.MaxValue}]."));
            if (update.Metrics.Count > _options.MaxMetrics)
                throw Refuse(update, FederationException.Invalid($"metrics has {update.Metrics.Count} entries; at most {_options.MaxMetrics} are allowed."));
            foreach (var (key, value) in update.Metrics)
                if (!double.IsFinite(value))
                    throw Refuse(update, FederationException.Invalid($"metrics[\"{key}\"] = {value} is not finite."));
            try
            {
                _strategy.ValidateUpdate(_currentParameters!, update.Payload.Span);
            }
            catch (FederationException ex)
            {
                throw Refuse(update, ex);
            }

            var accepted = new AcceptedUpdate(update.ClientId, update.RoundId, update.ModelVersion, Math.Min(update.SampleCount, _options.MaxSampleWeight),
                update.Payload.ToArray(), sha, new Dictionary<string, double>(update.Metrics), now);
            if (!_store.AcceptUpdate(accepted))
                throw new InvalidOperationException($"The update of ({update.ClientId}, {update.RoundId}) appeared concurrently.");
            if (round.Phase == RoundPhase.Open) _current = round with { Phase = RoundPhase.Collecting };
            int count = _store.CountUpdates(round.RoundId);
            CoordinatorLog.UpdateAccepted(_logger, round.RoundId, update.ClientId, count, _options.MinClients, update.SampleCount);
            if (count >= _options.MinClients) AggregateLocked(now);
            return new UpdateReceiptInfo(update.RoundId, false, sha, now);
        }
    }

    /// <summary>Most UTF-8 bytes of a decline reason.</summary>
    public const int MaxDeclineReasonBytes = 1024;

    /// <summary>A selected client says it cannot train this round (an unusable shard, a task beyond its limits). It gets
    /// no task for the round any more and counts as a failure at aggregation; as soon as the accepted updates plus the
    /// selected clients still training cannot reach the quorum, the round is abandoned at once rather than at its
    /// deadline, and the next opens. Idempotent; declines are kept in memory (after a restart the client is asked again).</summary>
    public void DeclineTask(string clientId, long roundId, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (string.IsNullOrWhiteSpace(reason) || Encoding.UTF8.GetByteCount(reason) > MaxDeclineReasonBytes)
            throw FederationException.Invalid($"reason must be 1 to {MaxDeclineReasonBytes} UTF-8 bytes.");
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _time.GetUtcNow();
            _lastSeen[clientId] = now;
            AdvanceLocked(now);
            if (_current is not { } round || round.RoundId != roundId)
                throw FederationException.Precondition($"round_id {roundId} is not open; the open round is {(_current is null ? "none" : _current.RoundId)}.");
            if (!round.SelectedClients.Contains(clientId, StringComparer.Ordinal))
                throw FederationException.Precondition($"Client {clientId} was not selected for round {roundId}.");
            if (_store.FindUpdate(clientId, roundId) is not null)
                throw FederationException.Precondition($"Client {clientId} already has an update accepted for round {roundId}.");
            if (!_declined.TryAdd(clientId, reason)) return;
            CoordinatorLog.TaskDeclined(_logger, roundId, clientId, reason);
            int count = _store.CountUpdates(roundId);
            int undecided = round.SelectedClients.Count(c => !_declined.ContainsKey(c) && _store.FindUpdate(c, roundId) is null);
            if (count + undecided >= _options.MinClients) return;
            CoordinatorLog.RoundAbandonedEarly(_logger, roundId, count, undecided, _options.MinClients);
            AbandonLocked(round, now);
        }
    }

    /// <summary>Federation and round state.</summary>
    public FederationStatusInfo GetStatus()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _time.GetUtcNow();
            AdvanceLocked(now);
            var latest = _current ?? _store.LatestRound();
            bool finished = IsFinishedLocked();
            return new FederationStatusInfo(_store.FederationId, _strategy.Method, latest?.RoundId ?? 0, _store.LatestVersion(),
                _aggregating ? RoundPhase.Aggregating : _current?.Phase, finished, !finished && _current is null,
                _store.CountClients(), _current is null ? 0 : _store.CountUpdates(_current.RoundId), _options.MinClients,
                _current?.Deadline);
        }
    }

    /// <summary>Applies the passage of time: abandons a round past its deadline, opens a round when enough clients
    /// are connected. Hosts call it periodically (e.g. every second); tests call it after advancing a fake clock.</summary>
    public void Tick()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _time.GetUtcNow();
            AdvanceLocked(now);
            if (_current is null && !IsFinishedLocked()) TryOpenRoundLocked(now);
        }
    }

    /// <summary>The seed a client uses for its own random choices in a round (e.g. FedKSeed step_seed):
    /// SplitMix64(SelectionSeed ⊕ round·φ ⊕ FNV-1a(client id)).</summary>
    public ulong ClientRoundSeed(long roundId, string clientId) => ClientRoundSeed(_options.SelectionSeed, roundId, clientId);

    /// <summary>The per-(client, round) seed for a given selection seed. The simulator uses it too, so that a networked
    /// FedKSeed run and a simulation with the same seed and client ids draw the same local steps.</summary>
    public static ulong ClientRoundSeed(ulong selectionSeed, long roundId, string clientId) =>
        SplitMix64.Mix(selectionSeed ^ ((ulong)roundId * 0x9E3779B97F4A7C15UL) ^ Fnv1a.Hash64(clientId));

    // ---- state machine -------------------------------------------------------------------------------------------

    private bool IsFinishedLocked() => _store.CountAggregatedRounds() >= _options.Rounds;

    private void AdvanceLocked(DateTimeOffset now)
    {
        if (_current is not { } round || now < round.Deadline) return;
        int count = _store.CountUpdates(round.RoundId);
        if (count >= _options.MinClients)
        {
            AggregateLocked(now);
            return;
        }
        CoordinatorLog.RoundAbandoned(_logger, round.RoundId, count, _options.MinClients);
        AbandonLocked(round, now);
    }

    private void AbandonLocked(RoundRecord round, DateTimeOffset now)
    {
        _store.UpdateRound(round.RoundId, RoundPhase.Closed, RoundOutcome.Abandoned, now);
        _current = null;
        _currentParameters = null;
    }

    /// <summary>Aggregates the open round if it already holds ≥ Q accepted updates (after a restart or a failure
    /// between accepting the quorum-reaching update and aggregating).</summary>
    private void AggregateIfQuorumLocked(DateTimeOffset now)
    {
        if (_current is { } round && _store.CountUpdates(round.RoundId) >= _options.MinClients) AggregateLocked(now);
    }

    private void TryOpenRoundLocked(DateTimeOffset now)
    {
        var connected = _lastSeen.Where(kv => now - kv.Value <= _options.ClientLivenessWindow)
            .Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        if (connected.Count < Math.Max(_options.MinClients, _options.ExpectedClients))
        {
            _quorumConnectedSince = null;
            return;
        }
        _quorumConnectedSince ??= now;
        if (connected.Count < _store.CountClients() && now - _quorumConnectedSince.Value < _options.SelectionWindow) return;

        long roundId = (_store.LatestRound()?.RoundId ?? 0) + 1;
        var selected = connected
            .OrderBy(id => SplitMix64.Derive(_options.SelectionSeed ^ Fnv1a.Hash64(id), roundId))
            .ThenBy(id => id, StringComparer.Ordinal)
            .Take(_options.ClientsPerRound).Order(StringComparer.Ordinal).ToArray();
        long version = _store.LatestVersion();
        var round = new RoundRecord(roundId, RoundPhase.Open, RoundOutcome.None, version, now, now + _options.RoundTimeout, null, selected);
        var parameters = _strategy.ConfigureRound(roundId, version);
        _store.InsertRound(round);
        _declined.Clear();
        _current = round;
        _currentParameters = parameters;
        _quorumConnectedSince = null;
        CoordinatorLog.RoundOpened(_logger, roundId, version, selected.Length, connected.Count, round.Deadline);
    }

    private void AggregateLocked(DateTimeOffset now)
    {
        var round = _current!;
        var results = _store.ListUpdates(round.RoundId);
        var reported = results.Select(u => u.ClientId).ToHashSet(StringComparer.Ordinal);
        var failures = round.SelectedClients.Where(c => !reported.Contains(c))
            .Select(c => new RoundFailure(c, _declined.TryGetValue(c, out var reason) ? "declined: " + reason : "no update accepted before the round closed")).ToList();
        _aggregating = true;
        try
        {
            byte[] payload = _strategy.Aggregate(round, results, failures);
            var version = new ModelVersionRecord(_store.LatestVersion() + 1, round.RoundId, payload, now);
            _store.CommitAggregation(round.RoundId, version, now);
            _strategy.Apply(version);
            CoordinatorLog.RoundAggregated(_logger, round.RoundId, results.Count, failures.Count, version.Version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not FederationStoreException)
        {
            CoordinatorLog.AggregationFailed(_logger, round.RoundId, ex);
            _store.UpdateRound(round.RoundId, RoundPhase.Closed, RoundOutcome.Abandoned, now);
        }
        finally
        {
            _aggregating = false;
        }
        _current = null;
        _currentParameters = null;
        if (IsFinishedLocked()) CoordinatorLog.Finished(_logger, _store.CountAggregatedRounds());
    }

    private FederationException Refuse(UpdateSubmission update, FederationException ex)
    {
        CoordinatorLog.UpdateRefused(_logger, update.ClientId, update.RoundId, ex.Message);
        return ex;
    }

    /// <summary>Stops serving: later calls get UNAVAILABLE, so the store can be closed while requests are in flight.
    /// Does not dispose the store (its owner does).</summary>
    public void Dispose()
    {
        lock (_gate) _disposed = true;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new FederationException(FederationError.Unavailable, "The federation server is shutting down.");
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    internal static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
