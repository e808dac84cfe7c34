using System.Security.Cryptography;
using Federated.Server.Domain;

namespace Federated.Server.Storage;

/// <summary>
/// <see cref="IFederationStore"/> in process memory: the same behaviour as the SQLite store (the
/// FederationStoreContract tests run against both) without durability — for the simulator and tests. Each mutating
/// method checks everything before changing anything, so it is all-or-nothing like a transaction. Thread-safe.
/// </summary>
public sealed class InMemoryFederationStore : IFederationStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientRecord> _clients = new(StringComparer.Ordinal);
    private readonly List<string> _clientOrder = [];
    private readonly SortedDictionary<long, RoundRecord> _rounds = [];
    private readonly Dictionary<(string ClientId, long RoundId), AcceptedUpdate> _updates = [];
    private readonly List<ModelVersionRecord> _versions = [];

    public string FederationId { get; } = "fed-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private string? _settings;

    public string PinSettings(string settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        lock (_gate) return _settings ??= settings;
    }

    // ---- clients -------------------------------------------------------------------------------------------------

    public ClientRecord? FindClient(string clientId)
    {
        lock (_gate) return _clients.GetValueOrDefault(clientId);
    }

    public ClientRecord? FindClientByCredential(byte[] credentialHash)
    {
        lock (_gate) return FirstClient(c => c.CredentialHash.AsSpan().SequenceEqual(credentialHash));
    }

    public ClientRecord? FindClientByEnrollment(byte[] enrollmentTokenHash, string name)
    {
        lock (_gate) return FirstClient(c => c.EnrollmentTokenHash.AsSpan().SequenceEqual(enrollmentTokenHash) && string.Equals(c.Name, name, StringComparison.Ordinal));
    }

    public void SaveClient(ClientRecord client)
    {
        ArgumentNullException.ThrowIfNull(client);
        lock (_gate)
        {
            var holder = FirstClient(c => c.CredentialHash.AsSpan().SequenceEqual(client.CredentialHash));
            if (holder is not null && !string.Equals(holder.ClientId, client.ClientId, StringComparison.Ordinal))
                throw new FederationStoreException($"Client {holder.ClientId} already holds this credential.");
            if (_clients.TryGetValue(client.ClientId, out var existing))
                _clients[client.ClientId] = client with { EnrolledAt = existing.EnrolledAt };   // enrollment time is kept
            else
            {
                _clients.Add(client.ClientId, client);
                _clientOrder.Add(client.ClientId);
            }
        }
    }

    public int CountClients()
    {
        lock (_gate) return _clients.Values.Count(c => !c.Revoked);
    }

    private ClientRecord? FirstClient(Func<ClientRecord, bool> match)
    {
        foreach (var id in _clientOrder)
            if (match(_clients[id])) return _clients[id];
        return null;
    }

    // ---- rounds --------------------------------------------------------------------------------------------------

    public RoundRecord? LatestRound()
    {
        lock (_gate) return _rounds.Count == 0 ? null : _rounds.Values.Last();
    }

    public void InsertRound(RoundRecord round)
    {
        ArgumentNullException.ThrowIfNull(round);
        lock (_gate)
            if (!_rounds.TryAdd(round.RoundId, round with { SelectedClients = [.. round.SelectedClients] }))
                throw new FederationStoreException($"Round {round.RoundId} already exists.");
    }

    public void UpdateRound(long roundId, RoundPhase phase, RoundOutcome outcome, DateTimeOffset? closedAt)
    {
        lock (_gate)
            if (_rounds.TryGetValue(roundId, out var round))
                _rounds[roundId] = round with { Phase = phase, Outcome = outcome, ClosedAt = closedAt };
    }

    public int CountAggregatedRounds()
    {
        lock (_gate) return _rounds.Values.Count(r => r.Outcome == RoundOutcome.Aggregated);
    }

    // ---- updates -------------------------------------------------------------------------------------------------

    public AcceptedUpdate? FindUpdate(string clientId, long roundId)
    {
        lock (_gate) return _updates.GetValueOrDefault((clientId, roundId));
    }

    public bool AcceptUpdate(AcceptedUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        lock (_gate)
        {
            if (!_clients.ContainsKey(update.ClientId))
                throw new FederationStoreException($"An update names client {update.ClientId}, which is not enrolled.");
            if (!_rounds.TryGetValue(update.RoundId, out var round))
                throw new FederationStoreException($"An update names round {update.RoundId}, which does not exist.");
            if (!_updates.TryAdd((update.ClientId, update.RoundId), update with { Metrics = new Dictionary<string, double>(update.Metrics) }))
                return false;
            if (round.Phase == RoundPhase.Open) _rounds[update.RoundId] = round with { Phase = RoundPhase.Collecting };
            return true;
        }
    }

    public IReadOnlyList<AcceptedUpdate> ListUpdates(long roundId)
    {
        lock (_gate)
            return _updates.Values.Where(u => u.RoundId == roundId).OrderBy(u => u.ClientId, StringComparer.Ordinal).ToList();
    }

    public int CountUpdates(long roundId)
    {
        lock (_gate) return _updates.Keys.Count(k => k.RoundId == roundId);
    }

    // ---- versions ------------------------------------------------------------------------------------------------

    public IReadOnlyList<ModelVersionRecord> ListVersions()
    {
        lock (_gate) return _versions.ToList();
    }

    public long LatestVersion()
    {
        lock (_gate) return _versions.Count == 0 ? 0 : _versions[^1].Version;
    }

    public void CommitAggregation(long roundId, ModelVersionRecord version, DateTimeOffset closedAt)
    {
        ArgumentNullException.ThrowIfNull(version);
        lock (_gate)
        {
            long latest = _versions.Count == 0 ? 0 : _versions[^1].Version;
            if (version.Version != latest + 1)
                throw new InvalidOperationException($"Version {version.Version} cannot follow stored version {latest}.");
            if (!_rounds.TryGetValue(roundId, out var round) || round.Phase == RoundPhase.Closed)
                throw new InvalidOperationException($"Round {roundId} is unknown or already closed.");
            _versions.Add(version with { RoundId = roundId });
            _rounds[roundId] = round with { Phase = RoundPhase.Closed, Outcome = RoundOutcome.Aggregated, ClosedAt = closedAt };
        }
    }

    public void Dispose() { }
}
