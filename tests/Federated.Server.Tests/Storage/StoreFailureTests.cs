using Federated.Server.Domain;
using Federated.Server.Storage;

namespace Federated.Server.Tests.Storage;

/// <summary>How the coordinator treats a store that fails: the store's error reaches the caller and nothing is
/// recorded as if the round had been decided.</summary>
public sealed class StoreFailureTests
{
    [Fact]
    public void PushUpdate_StoreFailsToCommitAggregation_ThrowsStoreErrorAndDoesNotAbandonRound()
    {
        // Arrange
        using var f = new TestFederation(openStore: _ => new CommitFailingStore(new InMemoryFederationStore()));
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        f.Push(a, 1, TestFederation.Scalars([4], [2f]));

        // Act
        var ex = Record.Exception(() => f.Push(b, 1, TestFederation.Scalars([4], [6f])));

        // Assert
        Assert.IsType<FederationStoreException>(ex);
        var round = f.Store.LatestRound()!;
        Assert.Equal((RoundPhase.Collecting, RoundOutcome.None), (round.Phase, round.Outcome));
        Assert.Equal(0, f.Store.LatestVersion());
    }

    /// <summary>An in-memory store whose disk is gone when a round is committed.</summary>
    private sealed class CommitFailingStore(IFederationStore inner) : IFederationStore
    {
        public string FederationId => inner.FederationId;
        public string PinSettings(string settings) => inner.PinSettings(settings);
        public ClientRecord? FindClient(string clientId) => inner.FindClient(clientId);
        public ClientRecord? FindClientByCredential(byte[] credentialHash) => inner.FindClientByCredential(credentialHash);
        public ClientRecord? FindClientByEnrollment(byte[] enrollmentTokenHash, string name) => inner.FindClientByEnrollment(enrollmentTokenHash, name);
        public void SaveClient(ClientRecord client) => inner.SaveClient(client);
        public int CountClients() => inner.CountClients();
        public RoundRecord? LatestRound() => inner.LatestRound();
        public void InsertRound(RoundRecord round) => inner.InsertRound(round);
        public void UpdateRound(long roundId, RoundPhase phase, RoundOutcome outcome, DateTimeOffset? closedAt) => inner.UpdateRound(roundId, phase, outcome, closedAt);
        public int CountAggregatedRounds() => inner.CountAggregatedRounds();
        public AcceptedUpdate? FindUpdate(string clientId, long roundId) => inner.FindUpdate(clientId, roundId);
        public bool AcceptUpdate(AcceptedUpdate update) => inner.AcceptUpdate(update);
        public IReadOnlyList<AcceptedUpdate> ListUpdates(long roundId) => inner.ListUpdates(roundId);
        public int CountUpdates(long roundId) => inner.CountUpdates(roundId);
        public IReadOnlyList<ModelVersionRecord> ListVersions() => inner.ListVersions();
        public long LatestVersion() => inner.LatestVersion();
        public void CommitAggregation(long roundId, ModelVersionRecord version, DateTimeOffset closedAt) =>
            throw new FederationStoreException("disk I/O error (injected)");
        public void Dispose() => inner.Dispose();
    }
}
