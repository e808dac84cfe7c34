using Federated.Core;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Strategies;

namespace Federated.Server.Tests;

/// <summary>DeclineTask (a selected client that cannot train) and the bounds the server checks at start.</summary>
public sealed class DeclineTaskTests
{
    /// <summary>Three selected (a, b, c), quorum 2. Returns the coordinator with round 1 open.</summary>
    private static (TestFederation F, string A, string B, string C) OpenRoundOfThree()
    {
        var f = new TestFederation();
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        var c = f.Enroll("c");
        f.Coordinator.GetTask(a);
        f.Coordinator.GetTask(b);
        Assert.Equal(TaskAvailabilityKind.Assigned, f.Coordinator.GetTask(c).Availability);
        return (f, a, b, c);
    }

    [Fact]
    public void DeclineTask_QuorumStillReachable_RoundStaysOpenAndDeclinerGetsNoTask()
    {
        // Arrange
        var (f, a, b, _) = OpenRoundOfThree();
        using var _f = f;

        // Act
        f.Coordinator.DeclineTask(a, 1, "the data shard has no examples");
        var forA = f.Coordinator.GetTask(a);
        var forB = f.Coordinator.GetTask(b);

        // Assert
        Assert.Equal(TaskAvailabilityKind.Wait, forA.Availability);
        Assert.Equal(TaskAvailabilityKind.Assigned, forB.Availability);
        Assert.NotEqual(RoundPhase.Closed, f.Store.LatestRound()!.Phase);
    }

    [Fact]
    public void DeclineTask_RemainingCannotReachQuorum_AbandonsBeforeDeadlineAndOpensNextRound()
    {
        // Arrange: a pushes; b and c decline, so 1 update + 0 still training < quorum 2.
        var (f, a, b, c) = OpenRoundOfThree();
        using var _f = f;
        f.Push(a, 1, TestFederation.Scalars([1, 2, 3, 4], [1f, 1f, 1f, 1f]));
        var deadline = f.Store.LatestRound()!.Deadline;
        f.Time.Advance(TimeSpan.FromSeconds(5));

        // Act
        f.Coordinator.DeclineTask(b, 1, "fedkseed.local_steps is 2000000000; it must be in [1, 100,000]");
        var afterFirstDecline = f.Store.LatestRound()!;
        f.Coordinator.DeclineTask(c, 1, "the data shard has no examples");
        var round1 = f.Store.LatestRound()!;
        var next = f.Coordinator.GetTask(b);

        // Assert: closed by the declines, not by the clock (the fake clock stands 5 s after opening).
        Assert.NotEqual(RoundPhase.Closed, afterFirstDecline.Phase);
        Assert.Equal(RoundPhase.Closed, round1.Phase);
        Assert.Equal(RoundOutcome.Abandoned, round1.Outcome);
        Assert.True(round1.ClosedAt < deadline, $"closed at {round1.ClosedAt:O}, deadline {deadline:O}");
        Assert.Equal(TaskAvailabilityKind.Assigned, next.Availability);
        Assert.Equal(2, next.RoundId);
        Assert.Equal(0, f.Store.LatestVersion());
    }

    [Fact]
    public void DeclineTask_Repeated_IsIdempotent()
    {
        // Arrange
        var (f, a, _, _) = OpenRoundOfThree();
        using var _f = f;
        f.Coordinator.DeclineTask(a, 1, "unreadable shard");

        // Act
        f.Coordinator.DeclineTask(a, 1, "unreadable shard");

        // Assert
        Assert.NotEqual(RoundPhase.Closed, f.Store.LatestRound()!.Phase);
    }

    [Theory]
    [InlineData(2L, FederationError.FailedPrecondition)]   // not the open round
    [InlineData(1L, FederationError.InvalidArgument)]      // empty reason
    public void DeclineTask_Invalid_Refused(long round, FederationError expected)
    {
        // Arrange
        var (f, a, _, _) = OpenRoundOfThree();
        using var _f = f;

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.DeclineTask(a, round, expected == FederationError.InvalidArgument ? " " : "x"));

        // Assert
        Assert.Equal(expected, ex.Error);
    }

    [Fact]
    public void DeclineTask_AfterPushing_FailedPrecondition()
    {
        // Arrange
        var (f, a, _, _) = OpenRoundOfThree();
        using var _f = f;
        f.Push(a, 1, TestFederation.Scalars([1], [1f]));

        // Act
        var ex = Assert.Throws<FederationException>(() => f.Coordinator.DeclineTask(a, 1, "changed my mind"));

        // Assert
        Assert.Equal(FederationError.FailedPrecondition, ex.Error);
    }

    [Fact]
    public void FedKSeedStrategyOptions_LocalStepsAboveLimit_RefusedNamingOption()
    {
        // Arrange
        var options = new FedKSeedStrategyOptions { LocalSteps = 2_000_000_000 };

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        // Assert
        Assert.Contains("--local-steps", ex.Message, StringComparison.Ordinal);
        Assert.Contains(TrainingLimits.MaxLocalSteps.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TrainingLimits.MaxRounds + 1, 2, 2)]
    [InlineData(10, TrainingLimits.MaxClientsPerRound + 1, 2)]
    public void FederationCoordinatorOptions_SizeAboveLimit_Refused(int rounds, int perRound, int quorum)
    {
        // Arrange
        var options = new FederationCoordinatorOptions { Rounds = rounds, ClientsPerRound = perRound, MinClients = quorum };
        options.EnrollmentTokens.Add("t");

        // Act + Assert
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
    }

    [Fact]
    public void ComPeftStrategyOptions_RankAboveLimit_Refused()
    {
        // Arrange
        var options = new ComPeftStrategyOptions { UpdateElementCount = 10, Rank = TrainingLimits.MaxLoraRank + 1 };

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        // Assert
        Assert.Contains("--lora-rank", ex.Message, StringComparison.Ordinal);
    }
}
