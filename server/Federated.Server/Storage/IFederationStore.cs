using Federated.Server.Domain;

namespace Federated.Server.Storage;

/// <summary>
/// Durable federation state: enrolled clients, rounds, accepted updates (raw payload bytes) and model versions (each
/// version's method payload, e.g. a FedKSeed ΔH; their sum is the FedKSeed accumulator H). The coordinator calls it
/// from one thread at a time. Every method that changes more than one row is one transaction, so a crash (kill -9)
/// at any point leaves either all or none of it: accepting an update is <see cref="AcceptUpdate"/>; aggregating is
/// <see cref="CommitAggregation"/> (version + round closed together). Implementations: <see cref="SqliteFederationStore"/>
/// (durable, WAL) and <see cref="InMemoryFederationStore"/>; <see cref="FederationStores.Open"/> picks one from a location
/// string. A store's own failures are <see cref="FederationStoreException"/>; misuse is <see cref="InvalidOperationException"/>.
/// The FederationStoreContract tests say what every implementation must do (a Postgres store adds one derived class).
/// </summary>
public interface IFederationStore : IDisposable
{
    /// <summary>Opaque id of this federation, created with the store and stable for its life.</summary>
    string FederationId { get; }

    /// <summary>The settings the federation's stored versions were made with (an opaque text, e.g. JSON): the first call
    /// on a store stores <paramref name="settings"/>; every call returns what is stored, which the caller compares.</summary>
    string PinSettings(string settings);

    ClientRecord? FindClient(string clientId);
    ClientRecord? FindClientByCredential(byte[] credentialHash);
    ClientRecord? FindClientByEnrollment(byte[] enrollmentTokenHash, string name);
    /// <summary>Inserts a client or replaces it (same id), e.g. to rotate its credential.</summary>
    void SaveClient(ClientRecord client);
    int CountClients();

    /// <summary>The round with the highest id, or null before the first.</summary>
    RoundRecord? LatestRound();
    void InsertRound(RoundRecord round);
    /// <summary>Sets a round's phase (and outcome, close time); used for Open → Collecting and for abandoning.</summary>
    void UpdateRound(long roundId, RoundPhase phase, RoundOutcome outcome, DateTimeOffset? closedAt);
    /// <summary>Rounds closed with <see cref="RoundOutcome.Aggregated"/>.</summary>
    int CountAggregatedRounds();

    AcceptedUpdate? FindUpdate(string clientId, long roundId);
    /// <summary>One transaction: stores the update and moves its round from Open to Collecting.
    /// Returns false (and changes nothing) when (client, round) already has an update.</summary>
    bool AcceptUpdate(AcceptedUpdate update);
    /// <summary>Accepted updates of a round, ordered by client id (ordinal).</summary>
    IReadOnlyList<AcceptedUpdate> ListUpdates(long roundId);
    int CountUpdates(long roundId);

    /// <summary>All versions, ascending.</summary>
    IReadOnlyList<ModelVersionRecord> ListVersions();
    long LatestVersion();
    /// <summary>One transaction: appends <paramref name="version"/> (must be latest + 1) and closes the round as Aggregated.</summary>
    void CommitAggregation(long roundId, ModelVersionRecord version, DateTimeOffset closedAt);
}
