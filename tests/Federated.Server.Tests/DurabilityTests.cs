using Federated.Server.Domain;

namespace Federated.Server.Tests;

/// <summary>Restart = dispose the store and build a new store, strategy and coordinator on the same SQLite file,
/// which is what a process restart after kill -9 sees (every accepted change is one committed transaction).</summary>
public sealed class DurabilityTests
{
    [Fact]
    public void Reopen_MidRound_ResumesSameRoundWithoutDoubleCounting()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        var taskB = f.Coordinator.GetTask(b);
        var payloadA = TestFederation.Scalars([4], [2f]);
        f.Push(a, 1, payloadA, samples: 1);

        // Act
        f.Reopen();
        var status = f.Coordinator.GetStatus();
        var retryA = f.Push(a, 1, payloadA, samples: 1);         // the client never saw its receipt
        var resumedB = f.Coordinator.GetTask(b);
        f.Push(b, 1, TestFederation.Scalars([4], [6f]), samples: 1);

        // Assert
        Assert.Equal(1, status.Round);
        Assert.Equal(RoundPhase.Collecting, status.Phase);
        Assert.Equal(1, status.UpdatesReceived);
        Assert.True(retryA.Duplicate);
        Assert.Equal(taskB, resumedB);
        var delta = f.Coordinator.GetModel(a, 0);
        Assert.Equal([4u], delta.SeedIndices);
        Assert.Equal([4f], delta.ScalarDeltas);   // (2 + 6) / 2, each update once
    }

    [Fact]
    public void Reopen_AfterAggregation_RestoresVersionsAndAccumulator()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        for (long round = 1; round <= 2; round++)
        {
            var ta = f.Coordinator.GetTask(a);
            f.Coordinator.GetTask(b);
            f.Push(a, round, TestFederation.Scalars([(uint)round], [1f]), samples: 1, version: ta.ModelVersion);
            f.Push(b, round, TestFederation.Scalars([9], [3f]), samples: 1, version: ta.ModelVersion);
        }
        var before = f.Coordinator.GetModel(a, 0);

        // Act
        f.Reopen();
        var after = f.Coordinator.GetModel(a, 0);
        var since1 = f.Coordinator.GetModel(a, 1);
        var next = f.Coordinator.GetTask(a);

        // Assert
        Assert.Equal(before.ToVersion, after.ToVersion);
        Assert.Equal(before.SeedIndices, after.SeedIndices);
        Assert.Equal(before.ScalarDeltas, after.ScalarDeltas);
        Assert.Equal([1u, 2u, 9u], after.SeedIndices);
        Assert.Equal([0.5f, 0.5f, 3f], after.ScalarDeltas);
        Assert.Equal([2u, 9u], since1.SeedIndices);
        Assert.Equal([0.5f, 1.5f], since1.ScalarDeltas);
        Assert.Equal(2, f.Coordinator.GetStatus().ModelVersion);
        Assert.Equal(TaskAvailabilityKind.Wait, next.Availability);    // b has not polled since the restart: below quorum
    }

    [Fact]
    public void Reopen_QuorumAcceptedButNotAggregated_AggregatesAtOnce()
    {
        // Arrange: b's update is committed (the quorum), then the process dies before the aggregation commits.
        using var f = new TestFederation();
        var (a, _, _) = QuorumAcceptedNotAggregated(f);

        // Act: restart; no time passes, so nothing waits for the round's deadline.
        f.Reopen();
        var status = f.Coordinator.GetStatus();

        // Assert
        Assert.Equal(1, status.ModelVersion);
        Assert.Null(status.Phase);
        Assert.Equal(RoundOutcome.Aggregated, f.Store.LatestRound()!.Outcome);
        var delta = f.Coordinator.GetModel(a, 0);
        Assert.Equal([4u], delta.SeedIndices);
        Assert.Equal([4f], delta.ScalarDeltas);   // (2 + 6) / 2, each update once
    }

    [Fact]
    public void PushUpdate_DuplicateOfQuorumReachingUpdateNotAggregated_AggregatesTheRound()
    {
        // Arrange: the store holds the quorum but this coordinator never aggregated (a failure after the accept committed).
        using var f = new TestFederation();
        var (a, b, payloadB) = QuorumAcceptedNotAggregated(f);
        var before = f.Coordinator.GetStatus();

        // Act: the client never saw its receipt and pushes the same bytes again.
        var retry = f.Push(b, 1, payloadB, version: 0);

        // Assert
        Assert.Equal(0, before.ModelVersion);
        Assert.True(retry.Duplicate);
        var status = f.Coordinator.GetStatus();
        Assert.Equal(1, status.ModelVersion);
        Assert.Equal(RoundOutcome.Aggregated, f.Store.LatestRound()!.Outcome);
        Assert.Equal([4f], f.Coordinator.GetModel(a, 0).ScalarDeltas);
    }

    /// <summary>Round 1 with a's update pushed (g = 2 on seed 4) and b's (g = 6), the quorum, committed to the store the
    /// way PushUpdate commits it (one transaction) but without the coordinator's next step, the aggregation.</summary>
    private static (string A, string B, byte[] PayloadB) QuorumAcceptedNotAggregated(TestFederation f)
    {
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        f.Push(a, 1, TestFederation.Scalars([4], [2f]));
        var payloadB = TestFederation.Scalars([4], [6f]);
        Assert.True(f.Store.AcceptUpdate(new AcceptedUpdate(b, 1, 0, 1, payloadB, System.Security.Cryptography.SHA256.HashData(payloadB),
            new Dictionary<string, double> { ["train_loss"] = 1.5 }, f.Time.GetUtcNow())));
        return (a, b, payloadB);
    }

    [Fact]
    public void Reopen_EnrolledClient_CredentialStillValid()
    {
        // Arrange
        using var f = new TestFederation();
        var enrollment = f.Coordinator.Enroll(TestFederation.Token,
            new ClientDescription("edge", "", "", 0, [TrainingMethodKind.FedKSeed]));
        var federationId = f.Coordinator.FederationId;

        // Act
        f.Reopen();

        // Assert
        Assert.Equal(enrollment.ClientId, f.Coordinator.Authenticate(enrollment.BearerToken));
        Assert.Equal(federationId, f.Coordinator.FederationId);
    }

    [Fact]
    public void AcceptUpdate_SameKeyTwice_SecondIsRefusedAndNothingChanges()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        f.Push(a, 1, TestFederation.Scalars([1], [1f]));
        var stored = f.Store.FindUpdate(a, 1)!;

        // Act
        bool second = f.Store.AcceptUpdate(stored with { Payload = [1, 2, 3] });

        // Assert
        Assert.False(second);
        Assert.Equal(1, f.Store.CountUpdates(1));
        Assert.Equal(stored.Payload, f.Store.FindUpdate(a, 1)!.Payload);
    }

    [Fact]
    public void CommitAggregation_VersionGap_ThrowsAndLeavesRoundOpen()
    {
        // Arrange
        using var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);

        // Act
        var ex = Record.Exception(() => f.Store.CommitAggregation(1, new ModelVersionRecord(5, 1, [], f.Time.GetUtcNow()), f.Time.GetUtcNow()));

        // Assert
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Equal(0, f.Store.LatestVersion());
        Assert.Equal(RoundPhase.Open, f.Store.LatestRound()!.Phase);
    }
}
