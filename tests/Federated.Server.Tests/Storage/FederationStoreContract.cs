using Federated.Server.Domain;
using Federated.Server.Storage;

namespace Federated.Server.Tests.Storage;

/// <summary>
/// What every <see cref="IFederationStore"/> must do, as the coordinator relies on it. A store passes by deriving one
/// small class that says how to open it (<see cref="InMemoryFederationStoreContractTests"/>,
/// <see cref="SqliteFederationStoreContractTests"/>); a durable store derives from <see cref="DurableFederationStoreContract"/>
/// and also says how to reopen the same state. Times are whole milliseconds (the resolution stores keep).
/// </summary>
public abstract class FederationStoreContract : IDisposable
{
    protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected FederationStoreContract()
    {
        Store = OpenStore();
    }

    protected IFederationStore Store { get; set; }

    /// <summary>A store over fresh, empty state.</summary>
    protected abstract IFederationStore OpenStore();

    public virtual void Dispose()
    {
        Store.Dispose();
        GC.SuppressFinalize(this);
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    protected static ClientRecord Client(string id, byte token = 1, byte credential = 0, string? name = null, bool revoked = false) =>
        new(id, name ?? "name-" + id, [token, 2, 3], credential == 0 ? System.Text.Encoding.UTF8.GetBytes("credential-" + id) : [credential, 9],
            T0.AddSeconds(1), revoked);

    protected static RoundRecord Round(long id, long baseVersion = 0, params string[] selected) =>
        new(id, RoundPhase.Open, RoundOutcome.None, baseVersion, T0.AddMinutes(id), T0.AddMinutes(id + 10), null, selected);

    protected static AcceptedUpdate Update(string clientId, long roundId, byte payload = 7) =>
        new(clientId, roundId, 0, 12, [payload, 1, 2], [payload, 0xAA], new Dictionary<string, double> { ["train_loss"] = 1.25 },
            T0.AddMinutes(roundId).AddMilliseconds(250));

    protected static ModelVersionRecord Version(long version, long roundId) =>
        new(version, roundId, [(byte)version, 4, 5, 6], T0.AddHours(version));

    /// <summary>Enrolls <paramref name="clients"/> and opens round <paramref name="roundId"/> with all of them selected.</summary>
    protected void OpenRound(long roundId, params string[] clients)
    {
        foreach (var c in clients)
            if (Store.FindClient(c) is null) Store.SaveClient(Client(c));
        Store.InsertRound(Round(roundId, Store.LatestVersion(), clients));
    }

    protected static void AssertSameClient(ClientRecord expected, ClientRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.ClientId, actual.ClientId);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.EnrollmentTokenHash, actual.EnrollmentTokenHash);
        Assert.Equal(expected.CredentialHash, actual.CredentialHash);
        Assert.Equal(expected.EnrolledAt, actual.EnrolledAt);
        Assert.Equal(expected.Revoked, actual.Revoked);
    }

    protected static void AssertSameRound(RoundRecord expected, RoundRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { SelectedClients = [] }, actual with { SelectedClients = [] });
        Assert.Equal(expected.SelectedClients, actual.SelectedClients);
    }

    protected static void AssertSameUpdate(AcceptedUpdate expected, AcceptedUpdate? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal((expected.ClientId, expected.RoundId, expected.ModelVersion, expected.SampleCount, expected.AcceptedAt),
            (actual.ClientId, actual.RoundId, actual.ModelVersion, actual.SampleCount, actual.AcceptedAt));
        Assert.Equal(expected.Payload, actual.Payload);
        Assert.Equal(expected.Sha256, actual.Sha256);
        Assert.Equal(expected.Metrics.OrderBy(kv => kv.Key), actual.Metrics.OrderBy(kv => kv.Key));
    }

    protected static void AssertSameVersions(IReadOnlyList<ModelVersionRecord> expected, IReadOnlyList<ModelVersionRecord> actual)
    {
        Assert.Equal(expected.Select(v => (v.Version, v.RoundId, v.CreatedAt)), actual.Select(v => (v.Version, v.RoundId, v.CreatedAt)));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Payload, actual[i].Payload);
    }

    // ---- federation id -------------------------------------------------------------------------------------------

    [Fact]
    public void FederationId_NewStore_IsFedPrefixedHexAndStable()
    {
        // Act
        string first = Store.FederationId;
        string second = Store.FederationId;

        // Assert
        Assert.Matches("^fed-[0-9a-f]{16}$", first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void FederationId_TwoNewStores_Differ()
    {
        // Arrange
        using var other = OpenStore();

        // Act & Assert
        Assert.NotEqual(Store.FederationId, other.FederationId);
    }

    // ---- pinned settings -----------------------------------------------------------------------------------------

    [Fact]
    public void PinSettings_FirstCallThenOther_ReturnsTheFirstEveryTime()
    {
        // Act
        string first = Store.PinSettings("{\"eta\":\"1e-6\"}");
        string second = Store.PinSettings("{\"eta\":\"2e-6\"}");

        // Assert
        Assert.Equal("{\"eta\":\"1e-6\"}", first);
        Assert.Equal("{\"eta\":\"1e-6\"}", second);
    }

    // ---- clients -------------------------------------------------------------------------------------------------

    [Fact]
    public void FindClient_AfterSave_ReturnsSavedRecordByIdCredentialAndEnrollment()
    {
        // Arrange
        var a = Client("c-a", token: 5, credential: 40);
        Store.SaveClient(a);
        Store.SaveClient(Client("c-b", token: 5, credential: 41));

        // Act
        var byId = Store.FindClient("c-a");
        var byCredential = Store.FindClientByCredential(a.CredentialHash);
        var byEnrollment = Store.FindClientByEnrollment(a.EnrollmentTokenHash, a.Name);

        // Assert
        AssertSameClient(a, byId);
        AssertSameClient(a, byCredential);
        AssertSameClient(a, byEnrollment);
    }

    [Fact]
    public void FindClient_Unknown_ReturnsNull()
    {
        // Arrange
        var a = Client("c-a", token: 5, credential: 40);
        Store.SaveClient(a);

        // Act & Assert
        Assert.Null(Store.FindClient("c-z"));
        Assert.Null(Store.FindClientByCredential([1, 2, 3, 4]));
        Assert.Null(Store.FindClientByEnrollment(a.EnrollmentTokenHash, "someone else"));
        Assert.Null(Store.FindClientByEnrollment([9, 9, 9], a.Name));
    }

    [Fact]
    public void SaveClient_SameId_ReplacesCredentialAndRevocationButKeepsEnrollmentTime()
    {
        // Arrange
        var a = Client("c-a", credential: 40);
        Store.SaveClient(a);
        var rotated = a with { CredentialHash = [41, 41], EnrolledAt = T0.AddDays(3), Revoked = true };

        // Act
        Store.SaveClient(rotated);

        // Assert
        AssertSameClient(rotated with { EnrolledAt = a.EnrolledAt }, Store.FindClient("c-a"));
        Assert.Null(Store.FindClientByCredential(a.CredentialHash));
        AssertSameClient(rotated with { EnrolledAt = a.EnrolledAt }, Store.FindClientByCredential([41, 41]));
    }

    [Fact]
    public void SaveClient_CredentialHeldByAnotherClient_ThrowsFederationStoreExceptionAndKeepsBoth()
    {
        // Arrange
        var a = Client("c-a", credential: 40);
        Store.SaveClient(a);
        var b = Client("c-b", credential: 40);

        // Act & Assert
        Assert.Throws<FederationStoreException>(() => Store.SaveClient(b));
        AssertSameClient(a, Store.FindClientByCredential(a.CredentialHash));
        Assert.Null(Store.FindClient("c-b"));
    }

    [Fact]
    public void CountClients_WithRevokedClient_CountsOnlyActive()
    {
        // Arrange
        Store.SaveClient(Client("c-a", credential: 40));
        Store.SaveClient(Client("c-b", credential: 41));
        Store.SaveClient(Client("c-c", credential: 42, revoked: true));

        // Act & Assert
        Assert.Equal(2, Store.CountClients());
    }

    // ---- rounds --------------------------------------------------------------------------------------------------

    [Fact]
    public void LatestRound_Empty_ReturnsNullAndNoCounts()
    {
        // Act & Assert
        Assert.Null(Store.LatestRound());
        Assert.Equal(0, Store.CountAggregatedRounds());
        Assert.Equal(0, Store.LatestVersion());
        Assert.Empty(Store.ListVersions());
        Assert.Equal(0, Store.CountClients());
    }

    [Fact]
    public void InsertRound_Several_LatestRoundIsHighestIdWithAllFields()
    {
        // Arrange
        var second = Round(2, 0, "c-a", "c-b");

        // Act
        Store.InsertRound(Round(1, 0, "c-a"));
        Store.InsertRound(second);

        // Assert
        AssertSameRound(second, Store.LatestRound());
    }

    [Fact]
    public void InsertRound_ExistingId_ThrowsFederationStoreExceptionAndKeepsFirst()
    {
        // Arrange
        var first = Round(1, 0, "c-a");
        Store.InsertRound(first);

        // Act & Assert
        Assert.Throws<FederationStoreException>(() => Store.InsertRound(Round(1, 0, "c-b")));
        AssertSameRound(first, Store.LatestRound());
    }

    [Fact]
    public void UpdateRound_Abandon_SetsPhaseOutcomeAndCloseTimeWithoutCountingAsAggregated()
    {
        // Arrange
        var round = Round(1, 0, "c-a");
        Store.InsertRound(round);

        // Act
        Store.UpdateRound(1, RoundPhase.Closed, RoundOutcome.Abandoned, T0.AddMinutes(30));

        // Assert
        AssertSameRound(round with { Phase = RoundPhase.Closed, Outcome = RoundOutcome.Abandoned, ClosedAt = T0.AddMinutes(30) },
            Store.LatestRound());
        Assert.Equal(0, Store.CountAggregatedRounds());
    }

    // ---- updates -------------------------------------------------------------------------------------------------

    [Fact]
    public void AcceptUpdate_First_StoresItAndMovesRoundToCollecting()
    {
        // Arrange
        OpenRound(1, "c-a", "c-b");
        var update = Update("c-a", 1);

        // Act
        bool accepted = Store.AcceptUpdate(update);

        // Assert
        Assert.True(accepted);
        AssertSameUpdate(update, Store.FindUpdate("c-a", 1));
        Assert.Null(Store.FindUpdate("c-b", 1));
        Assert.Equal(1, Store.CountUpdates(1));
        Assert.Equal(RoundPhase.Collecting, Store.LatestRound()!.Phase);
    }

    [Fact]
    public void AcceptUpdate_SameClientAndRoundAgain_ReturnsFalseAndKeepsFirst()
    {
        // Arrange
        OpenRound(1, "c-a");
        var first = Update("c-a", 1, payload: 7);
        Store.AcceptUpdate(first);

        // Act
        bool again = Store.AcceptUpdate(Update("c-a", 1, payload: 8));

        // Assert
        Assert.False(again);
        AssertSameUpdate(first, Store.FindUpdate("c-a", 1));
        Assert.Equal(1, Store.CountUpdates(1));
    }

    [Fact]
    public void AcceptUpdate_SameClientNextRound_IsAnotherUpdate()
    {
        // Arrange
        OpenRound(1, "c-a");
        Store.AcceptUpdate(Update("c-a", 1));
        Store.UpdateRound(1, RoundPhase.Closed, RoundOutcome.Abandoned, T0.AddMinutes(20));
        OpenRound(2, "c-a");

        // Act
        bool accepted = Store.AcceptUpdate(Update("c-a", 2));

        // Assert
        Assert.True(accepted);
        Assert.Equal(1, Store.CountUpdates(1));
        Assert.Equal(1, Store.CountUpdates(2));
    }

    [Fact]
    public void AcceptUpdate_ClosedRound_LeavesPhaseClosed()
    {
        // Arrange
        OpenRound(1, "c-a", "c-b");
        Store.UpdateRound(1, RoundPhase.Closed, RoundOutcome.Abandoned, T0.AddMinutes(20));

        // Act
        Store.AcceptUpdate(Update("c-a", 1));

        // Assert
        Assert.Equal(RoundPhase.Closed, Store.LatestRound()!.Phase);
    }

    [Fact]
    public void AcceptUpdate_UnknownClientOrRound_ThrowsFederationStoreExceptionAndStoresNothing()
    {
        // Arrange
        OpenRound(1, "c-a");

        // Act & Assert
        Assert.Throws<FederationStoreException>(() => Store.AcceptUpdate(Update("c-unknown", 1)));
        Assert.Throws<FederationStoreException>(() => Store.AcceptUpdate(Update("c-a", 9)));
        Assert.Equal(0, Store.CountUpdates(1));
        Assert.Equal(RoundPhase.Open, Store.LatestRound()!.Phase);
    }

    [Fact]
    public void ListUpdates_SeveralClients_OrdersByClientIdOrdinalAndOnlyThatRound()
    {
        // Arrange
        OpenRound(1, "c-b", "c-a", "c-B");
        Store.AcceptUpdate(Update("c-b", 1));
        Store.AcceptUpdate(Update("c-a", 1));
        Store.AcceptUpdate(Update("c-B", 1));
        Store.UpdateRound(1, RoundPhase.Closed, RoundOutcome.Abandoned, T0.AddMinutes(20));
        OpenRound(2, "c-a");
        Store.AcceptUpdate(Update("c-a", 2));

        // Act
        var listed = Store.ListUpdates(1);

        // Assert
        Assert.Equal(["c-B", "c-a", "c-b"], listed.Select(u => u.ClientId));
        AssertSameUpdate(Update("c-a", 1), listed[1]);
        Assert.Empty(Store.ListUpdates(3));
    }

    // ---- versions ------------------------------------------------------------------------------------------------

    [Fact]
    public void CommitAggregation_NextVersion_AppendsVersionAndClosesRoundAggregated()
    {
        // Arrange
        OpenRound(1, "c-a");
        Store.AcceptUpdate(Update("c-a", 1));
        var closedAt = T0.AddMinutes(5);

        // Act
        Store.CommitAggregation(1, Version(1, 1), closedAt);

        // Assert
        AssertSameVersions([Version(1, 1)], Store.ListVersions());
        Assert.Equal(1, Store.LatestVersion());
        var round = Store.LatestRound()!;
        Assert.Equal((RoundPhase.Closed, RoundOutcome.Aggregated, (DateTimeOffset?)closedAt), (round.Phase, round.Outcome, round.ClosedAt));
        Assert.Equal(1, Store.CountAggregatedRounds());
    }

    [Fact]
    public void ListVersions_SeveralRounds_AscendingWithPayloads()
    {
        // Arrange
        for (long r = 1; r <= 3; r++)
        {
            OpenRound(r, "c-a");
            Store.CommitAggregation(r, Version(r, r), T0.AddMinutes(r + 1));
        }

        // Act
        var versions = Store.ListVersions();

        // Assert
        AssertSameVersions([Version(1, 1), Version(2, 2), Version(3, 3)], versions);
        Assert.Equal(3, Store.LatestVersion());
        Assert.Equal(3, Store.CountAggregatedRounds());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void CommitAggregation_VersionNotLatestPlusOne_ThrowsInvalidOperationAndChangesNothing(long version)
    {
        // Arrange
        OpenRound(1, "c-a");

        // Act & Assert
        Assert.Throws<InvalidOperationException>(() => Store.CommitAggregation(1, Version(version, 1), T0.AddMinutes(5)));
        Assert.Empty(Store.ListVersions());
        Assert.Equal(RoundPhase.Open, Store.LatestRound()!.Phase);
        Assert.Equal(0, Store.CountAggregatedRounds());
    }

    [Fact]
    public void CommitAggregation_RoundAlreadyAggregated_ThrowsInvalidOperationAndChangesNothing()
    {
        // Arrange
        OpenRound(1, "c-a");
        Store.CommitAggregation(1, Version(1, 1), T0.AddMinutes(5));

        // Act & Assert
        Assert.Throws<InvalidOperationException>(() => Store.CommitAggregation(1, Version(2, 1), T0.AddMinutes(6)));
        AssertSameVersions([Version(1, 1)], Store.ListVersions());
        Assert.Equal(T0.AddMinutes(5), Store.LatestRound()!.ClosedAt);
    }

    [Fact]
    public void CommitAggregation_RoundAbandoned_ThrowsInvalidOperationAndAddsNoVersion()
    {
        // Arrange
        OpenRound(1, "c-a");
        Store.UpdateRound(1, RoundPhase.Closed, RoundOutcome.Abandoned, T0.AddMinutes(20));

        // Act & Assert
        Assert.Throws<InvalidOperationException>(() => Store.CommitAggregation(1, Version(1, 1), T0.AddMinutes(21)));
        Assert.Empty(Store.ListVersions());
        Assert.Equal(RoundOutcome.Abandoned, Store.LatestRound()!.Outcome);
    }

    [Fact]
    public void CommitAggregation_UnknownRound_ThrowsInvalidOperationAndAddsNoVersion()
    {
        // Arrange
        OpenRound(1, "c-a");

        // Act & Assert
        Assert.Throws<InvalidOperationException>(() => Store.CommitAggregation(7, Version(1, 7), T0.AddMinutes(5)));
        Assert.Empty(Store.ListVersions());
        Assert.Equal(0, Store.LatestVersion());
    }
}

/// <summary>The contract plus what a durable store adds: a reopened store (a restarted process) sees everything that
/// was committed, under the same federation id.</summary>
public abstract class DurableFederationStoreContract : FederationStoreContract
{
    /// <summary>Disposes <see cref="FederationStoreContract.Store"/>'s connection and opens the same state again.</summary>
    protected abstract IFederationStore ReopenStore();

    [Fact]
    public void Reopen_AfterPinSettings_ReturnsThePinnedSettings()
    {
        // Arrange
        Store.PinSettings("pinned-a");

        // Act
        Store.Dispose();
        Store = ReopenStore();

        // Assert
        Assert.Equal("pinned-a", Store.PinSettings("pinned-b"));
    }

    [Fact]
    public void Reopen_AfterCommittedWork_KeepsFederationIdClientsRoundsUpdatesAndVersions()
    {
        // Arrange
        string id = Store.FederationId;
        var a = Client("c-a", credential: 40);
        Store.SaveClient(a);
        Store.SaveClient(Client("c-b", credential: 41, revoked: true));
        OpenRound(1, "c-a");
        Store.AcceptUpdate(Update("c-a", 1));
        Store.CommitAggregation(1, Version(1, 1), T0.AddMinutes(5));
        OpenRound(2, "c-a");
        Store.AcceptUpdate(Update("c-a", 2, payload: 9));

        // Act
        Store.Dispose();
        Store = ReopenStore();

        // Assert
        Assert.Equal(id, Store.FederationId);
        AssertSameClient(a, Store.FindClientByCredential(a.CredentialHash));
        Assert.Equal(1, Store.CountClients());
        AssertSameRound(Round(2, 1, "c-a") with { Phase = RoundPhase.Collecting }, Store.LatestRound());
        AssertSameUpdate(Update("c-a", 1), Store.FindUpdate("c-a", 1));
        AssertSameUpdate(Update("c-a", 2, payload: 9), Store.ListUpdates(2).Single());
        AssertSameVersions([Version(1, 1)], Store.ListVersions());
        Assert.Equal(1, Store.CountAggregatedRounds());
    }

    [Fact]
    public void Reopen_AfterRefusedCommit_HasNoneOfIt()
    {
        // Arrange
        OpenRound(1, "c-a");
        Store.CommitAggregation(1, Version(1, 1), T0.AddMinutes(5));
        Assert.Throws<InvalidOperationException>(() => Store.CommitAggregation(1, Version(2, 1), T0.AddMinutes(6)));

        // Act
        Store.Dispose();
        Store = ReopenStore();

        // Assert
        AssertSameVersions([Version(1, 1)], Store.ListVersions());
        Assert.Equal(T0.AddMinutes(5), Store.LatestRound()!.ClosedAt);
    }
}
