using Federated.Server.Coordination;
using Federated.Server.Domain;

namespace Federated.Server.Tests;

public sealed class FederationCoordinatorTests
{
    [Fact]
    public void GetTask_FewerThanQuorumConnected_Waits()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        f.Enroll("b");

        // Act
        var task = f.Coordinator.GetTask(a);

        // Assert
        Assert.Equal(TaskAvailabilityKind.Wait, task.Availability);
        Assert.True(f.Coordinator.GetStatus().WaitingForClients);
    }

    [Fact]
    public void GetTask_AllEnrolledConnected_OpensRoundAndRepeatsSameTask()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);

        // Act
        var first = f.Coordinator.GetTask(b);
        var again = f.Coordinator.GetTask(b);
        var forA = f.Coordinator.GetTask(a);

        // Assert
        Assert.Equal(TaskAvailabilityKind.Assigned, first.Availability);
        Assert.Equal(1, first.RoundId);
        Assert.Equal(0, first.ModelVersion);
        Assert.Equal(first, again);
        Assert.Equal(TaskAvailabilityKind.Assigned, forA.Availability);
        Assert.NotEqual(first.ClientRoundSeed, forA.ClientRoundSeed);
        var parameters = Assert.IsType<FedKSeedRoundParameters>(first.Parameters);
        Assert.Equal(16, parameters.SeedCount);
        Assert.Equal(f.Time.GetUtcNow() + TimeSpan.FromMinutes(10), first.Deadline);
    }

    [Fact]
    public void Tick_QuorumConnectedButNotAll_OpensAfterSelectionWindow()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Enroll("c");
        f.Coordinator.GetTask(a);
        var early = f.Coordinator.GetTask(b);

        // Act
        f.Time.Advance(TimeSpan.FromSeconds(10));
        f.Coordinator.Tick();
        var late = f.Coordinator.GetTask(b);

        // Assert
        Assert.Equal(TaskAvailabilityKind.Wait, early.Availability);
        Assert.Equal(TaskAvailabilityKind.Assigned, late.Availability);
    }

    [Fact]
    public void PushUpdate_QuorumReached_AggregatesWeightedDeltaAndServesIt()
    {
        // Arrange: hand-worked ΔH. A (n=1): seeds [3,5,3], scalars [1,2,0.5]; B (n=3): seed [5], scalar [4]; N = 4.
        // ΔH[3] = 1/4·(1 + 0.5) = 0.375; ΔH[5] = 1/4·2 + 3/4·4 = 3.5.
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        var first = f.Push(a, 1, TestFederation.Scalars([3, 5, 3], [1f, 2f, 0.5f]), samples: 1);
        var statusBetween = f.Coordinator.GetStatus();
        f.Push(b, 1, TestFederation.Scalars([5], [4f]), samples: 3);
        var delta = f.Coordinator.GetModel(a, 0);

        // Assert
        Assert.False(first.Duplicate);
        Assert.Equal(RoundPhase.Collecting, statusBetween.Phase);
        Assert.Equal(1, statusBetween.UpdatesReceived);
        Assert.Equal(1, f.Coordinator.GetStatus().ModelVersion);
        Assert.Equal(ModelDeltaKind.SeedDelta, delta.Kind);
        Assert.Equal(1, delta.ToVersion);
        Assert.Equal([3u, 5u], delta.SeedIndices);
        Assert.Equal([0.375f, 3.5f], delta.ScalarDeltas);
    }

    [Fact]
    public void PushUpdate_SamePayloadTwice_ReturnsFirstReceiptAsDuplicate()
    {
        // Arrange
        using var f = new TestFederation(o => o.MinClients = 2);
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        var payload = TestFederation.Scalars([1], [0.25f]);
        var first = f.Push(a, 1, payload);
        f.Time.Advance(TimeSpan.FromSeconds(3));

        // Act
        var second = f.Push(a, 1, payload);

        // Assert
        Assert.True(second.Duplicate);
        Assert.Equal(first.UpdateSha256, second.UpdateSha256);
        Assert.Equal(first.AcceptedAt, second.AcceptedAt);
        Assert.Equal(1, f.Coordinator.GetStatus().UpdatesReceived);
    }

    [Fact]
    public void PushUpdate_DifferentPayloadSameRound_AlreadyExists()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        f.Push(a, 1, TestFederation.Scalars([1], [0.25f]));

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1], [0.5f])));

        // Assert
        Assert.Equal(FederationError.AlreadyExists, ex.Error);
    }

    [Fact]
    public void PushUpdate_DuplicateAfterRoundAggregated_StillDuplicateAndNotCountedTwice()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        var payload = TestFederation.Scalars([2], [1f]);
        f.Push(a, 1, payload);
        f.Push(b, 1, TestFederation.Scalars([2], [1f]), version: 0);

        // Act: a retry of a's push after its round closed (e.g. the first receipt was lost).
        var retry = f.Push(a, 1, payload, version: 0);

        // Assert
        Assert.True(retry.Duplicate);
        Assert.Equal([1f], f.Coordinator.GetModel(a, 0).ScalarDeltas);
    }

    [Fact]
    public void PushUpdate_StragglerAfterQuorum_FailedPrecondition()
    {
        // Arrange: M = 3, Q = 2: the third selected client is a straggler once two have pushed.
        using var f = new TestFederation();
        var ids = new[] { f.Enroll("a"), f.Enroll("b"), f.Enroll("c") };
        foreach (var id in ids) f.Coordinator.GetTask(id);
        f.Push(ids[0], 1, TestFederation.Scalars([1], [1f]));
        f.Push(ids[1], 1, TestFederation.Scalars([1], [1f]));

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Push(ids[2], 1, TestFederation.Scalars([1], [1f]), version: 0));

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, ex.Error);
        Assert.Equal(1, f.Coordinator.GetStatus().ModelVersion);
    }

    [Fact]
    public void PushUpdate_FutureRoundOrWrongVersion_FailedPrecondition()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        var future = Assert.Throws<FederationException>(() => f.Push(a, 2, TestFederation.Scalars([1], [1f])));
        var version = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1], [1f]), version: 5));

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, future.Error);
        Assert.Equal(FederationError.FailedPrecondition, version.Error);
        Assert.Equal(0, f.Coordinator.GetStatus().UpdatesReceived);
    }

    [Fact]
    public void PushUpdate_NotSelected_FailedPrecondition()
    {
        // Arrange: M = 2 of 3 connected; the unselected one pushes anyway.
        using var f = new TestFederation(o => { o.ClientsPerRound = 2; o.MinClients = 2; });
        var ids = new[] { f.Enroll("a"), f.Enroll("b"), f.Enroll("c") };
        foreach (var id in ids) f.Coordinator.GetTask(id);
        var tasks = ids.Select(f.Coordinator.GetTask).ToArray();
        var outsider = ids[Array.FindIndex(tasks, t => t.Availability == TaskAvailabilityKind.Wait)];

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Push(outsider, 1, TestFederation.Scalars([1], [1f])));

        // Assert
        Assert.Equal(2, tasks.Count(t => t.Availability == TaskAvailabilityKind.Assigned));
        Assert.Equal(FederationError.FailedPrecondition, ex.Error);
    }

    [Fact]
    public void Tick_DeadlineBelowQuorum_AbandonsRoundAndLatePushIsStale()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        f.Push(a, 1, TestFederation.Scalars([1], [1f]));

        // Act
        f.Time.Advance(TimeSpan.FromMinutes(10));
        f.Coordinator.Tick();
        var late = Assert.Throws<FederationException>(() => f.Push(b, 1, TestFederation.Scalars([1], [1f])));
        var next = f.Coordinator.GetTask(b);
        f.Coordinator.GetTask(a);

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, late.Error);
        Assert.Equal(0, f.Coordinator.GetStatus().ModelVersion);
        Assert.Equal(TaskAvailabilityKind.Assigned, next.Availability);
        Assert.Equal(2, next.RoundId);
        Assert.Equal(0, next.ModelVersion);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "garbage")]
    [InlineData(new byte[] { 0x0A, 0x05, 0x01 }, "truncated")]
    public void PushUpdate_UnparsablePayload_InvalidArgument(byte[] payload, string what)
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Push(a, 1, payload));

        // Assert
        Assert.True(ex.Error == FederationError.InvalidArgument, what);
        Assert.Equal(0, f.Coordinator.GetStatus().UpdatesReceived);
    }

    [Fact]
    public void PushUpdate_InvalidScalars_InvalidArgumentNamingTheField()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        var seed = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([16], [1f])));
        var nan = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1, 2], [1f, float.NaN])));
        var tooMany = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1, 1, 1, 1, 1], [1f, 1f, 1f, 1f, 1f])));
        var lengths = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1, 2], [1f])));
        var empty = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([], [])));
        var zero = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1], [1f]), samples: 0));

        // Assert
        Assert.All(new[] { seed, nan, tooMany, lengths, empty, zero }, e => Assert.Equal(FederationError.InvalidArgument, e.Error));
        Assert.Contains("seed_indices[0] = 16", seed.Message, StringComparison.Ordinal);
        Assert.Contains("scalars[1]", nan.Message, StringComparison.Ordinal);
        Assert.Equal(0, f.Coordinator.GetStatus().UpdatesReceived);
    }

    [Fact]
    public void PushUpdate_ScalarBeyondG_InvalidArgumentNamingTheBound()
    {
        // Arrange: G = 1000 by default; τ = 4.
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        float g = TestFederation.StrategyOptions.MaxAbsScalar;

        // Act
        var above = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([1, 2], [1f, -g * 1.001f])));
        var floatMax = Assert.Throws<FederationException>(() => f.Push(a, 1, TestFederation.Scalars([3, 3, 3, 3], [3.4e38f, 3.4e38f, 3.4e38f, 3.4e38f])));
        f.Push(a, 1, TestFederation.Scalars([1, 2], [g, -g]));

        // Assert: refused naming the scalar and G; exactly ±G is accepted.
        Assert.All(new[] { above, floatMax }, e => Assert.Equal(FederationError.InvalidArgument, e.Error));
        Assert.Contains("scalars[1]", above.Message, StringComparison.Ordinal);
        Assert.Contains("max_abs_scalar", floatMax.Message, StringComparison.Ordinal);
        Assert.Equal(1, f.Coordinator.GetStatus().UpdatesReceived);
    }

    [Fact]
    public void PushUpdate_SampleCountAboveCap_WeightedAsTheCap()
    {
        // Arrange: cap 10. A claims 2³¹−1 examples with g = 1 on seed 3; B has 10 with g = −1 on seed 3.
        using var f = new TestFederation(o => o.MaxSampleWeight = 10);
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        f.Push(a, 1, TestFederation.Scalars([3], [1f]), samples: int.MaxValue);
        f.Push(b, 1, TestFederation.Scalars([3], [-1f]), samples: 10);
        var delta = f.Coordinator.GetModel(a, 0);

        // Assert: equal weights 10 and 10 ⇒ ΔH[3] = (10·1 − 10·1)/20 = 0, so nothing changed (not ≈ 1 as with 2³¹−1).
        Assert.Equal(1, f.Coordinator.GetStatus().ModelVersion);
        Assert.Empty(delta.SeedIndices);
        Assert.Equal(10ul, f.Store.FindUpdate(a, 1)!.SampleCount);
    }

    [Fact]
    public void GetTask_AllRoundsAggregated_Finished()
    {
        // Arrange
        using var f = new TestFederation(o => o.Rounds = 2);
        var a = f.Enroll("a");
        var b = f.Enroll("b");

        // Act
        for (long round = 1; round <= 2; round++)
        {
            f.Coordinator.GetTask(a);
            var tb = f.Coordinator.GetTask(b);
            var ta = f.Coordinator.GetTask(a);
            Assert.Equal(round, ta.RoundId);
            f.Push(a, ta.RoundId, TestFederation.Scalars([1], [1f]), version: ta.ModelVersion);
            f.Push(b, tb.RoundId, TestFederation.Scalars([2], [1f]), version: tb.ModelVersion);
        }

        // Assert
        Assert.Equal(TaskAvailabilityKind.Finished, f.Coordinator.GetTask(a).Availability);
        Assert.True(f.Coordinator.GetStatus().Finished);
        Assert.Equal([1u, 2u], f.Coordinator.GetModel(a, 0).SeedIndices);
        Assert.Equal([1f, 1f], f.Coordinator.GetModel(a, 0).ScalarDeltas);   // each round: ½·1 per seed
        Assert.Equal([0.5f, 0.5f], f.Coordinator.GetModel(a, 1).ScalarDeltas);
    }

    [Fact]
    public void GetModel_UnknownVersion_FailedPrecondition()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.GetModel(a, 3));

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, ex.Error);
    }

    [Fact]
    public void Enroll_UnknownToken_Unauthenticated()
    {
        // Arrange
        using var f = new TestFederation();

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.Enroll("wrong",
            new ClientDescription("a", "", "", 0, [TrainingMethodKind.FedKSeed])));

        // Assert
        Assert.Equal(FederationError.Unauthenticated, ex.Error);
    }

    [Fact]
    public void Enroll_SameNameAgainWithSharedToken_AlreadyExistsAndFirstCredentialStillAuthenticates()
    {
        // Arrange
        using var f = new TestFederation();
        var info = new ClientDescription("edge-1", "", "", 0, [TrainingMethodKind.FedKSeed]);
        var first = f.Coordinator.Enroll(TestFederation.Token, info);

        // Act: anyone holding the shared enrollment token tries to enroll under the first client's name
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token, info));

        // Assert: refused, no identity handed out, and the real client's bearer still authenticates as itself
        Assert.Equal(FederationError.AlreadyExists, ex.Error);
        Assert.Contains("edge-1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(first.ClientId, ex.Message, StringComparison.Ordinal);
        Assert.Equal(first.ClientId, f.Coordinator.Authenticate(first.BearerToken));
        Assert.Equal(1, f.Coordinator.GetStatus().EnrolledClients);
    }

    [Fact]
    public void Enroll_AnotherName_NewIdAndBothCredentialsAuthenticate()
    {
        // Arrange
        using var f = new TestFederation();
        var first = f.Coordinator.Enroll(TestFederation.Token, new ClientDescription("edge-1", "", "", 0, [TrainingMethodKind.FedKSeed]));

        // Act
        var second = f.Coordinator.Enroll(TestFederation.Token, new ClientDescription("edge-2", "", "", 0, [TrainingMethodKind.FedKSeed]));

        // Assert
        Assert.NotEqual(first.ClientId, second.ClientId);
        Assert.Equal(first.ClientId, f.Coordinator.Authenticate(first.BearerToken));
        Assert.Equal(second.ClientId, f.Coordinator.Authenticate(second.BearerToken));
    }

    [Fact]
    public void Enroll_SameNameWithThatClientsProposedCredential_SameIdAsARetry()
    {
        // Arrange: the client proposed its credential; the answer was lost, so it asks again with the same one.
        using var f = new TestFederation();
        var info = new ClientDescription("edge-1", "", "", 0, [TrainingMethodKind.FedKSeed]);
        string credential = new('k', FederationCoordinator.MinProposedBearerLength);
        var first = f.Coordinator.Enroll(TestFederation.Token, info, credential);

        // Act
        var retry = f.Coordinator.Enroll(TestFederation.Token, info, credential);
        var other = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token, info, new string('x', 40)));

        // Assert: the holder gets its id back; a different credential for the same name is refused.
        Assert.Equal(first.ClientId, retry.ClientId);
        Assert.Equal(credential, retry.BearerToken);
        Assert.Equal(first.ClientId, f.Coordinator.Authenticate(credential));
        Assert.Equal(FederationError.AlreadyExists, other.Error);
        Assert.Equal(1, f.Coordinator.GetStatus().EnrolledClients);
    }

    [Fact]
    public void Enroll_ProposedCredentialBadOrTaken_RefusedAndNothingEnrolled()
    {
        // Arrange
        using var f = new TestFederation();
        string credential = new('k', 48);
        f.Coordinator.Enroll(TestFederation.Token, new ClientDescription("edge-1", "", "", 0, [TrainingMethodKind.FedKSeed]), credential);
        var info = new ClientDescription("edge-2", "", "", 0, [TrainingMethodKind.FedKSeed]);

        // Act
        var tooShort = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token, info, new string('k', 31)));
        var notAscii = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token, info, new string('é', 40)));
        var taken = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token, info, credential));

        // Assert
        Assert.Equal(FederationError.InvalidArgument, tooShort.Error);
        Assert.Equal(FederationError.InvalidArgument, notAscii.Error);
        Assert.Equal(FederationError.AlreadyExists, taken.Error);
        Assert.Equal(1, f.Coordinator.GetStatus().EnrolledClients);
    }

    [Fact]
    public void Enroll_MethodNotSupported_FailedPrecondition()
    {
        // Arrange
        using var f = new TestFederation();

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.Enroll(TestFederation.Token,
            new ClientDescription("a", "", "", 0, [TrainingMethodKind.ComPeft])));

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, ex.Error);
    }
}
