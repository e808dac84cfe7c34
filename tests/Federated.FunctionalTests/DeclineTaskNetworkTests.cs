using Federated.Client.Edge;
using Federated.Client.Networking;
using Federated.Client.Training;
using Federated.Core;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Microsoft.Extensions.Time.Testing;

namespace Federated.FunctionalTests;

/// <summary>A selected client that cannot train declines its task (DeclineTask), and the round closes at once instead of
/// at its deadline. Real EdgeClients against the real host over in-memory HTTP/2; both clocks are frozen fake time, so
/// a round that waited for its deadline would never close.</summary>
public sealed class DeclineTaskNetworkTests
{
    /// <summary>A trainer whose shard is unusable: every round throws what FedKSeedLocalTrainer throws for an empty
    /// shard. Cancels the run when asked to train <paramref name="stopAtRound"/> (the proof that the federation moved on).</summary>
    private sealed class UnusableShardTrainer(long stopAtRound, CancellationTokenSource stop) : ILocalTrainer
    {
        public List<long> Rounds { get; } = [];

        public ValueTask<long> InitializeAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0L);

        public ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
        {
            lock (Rounds) Rounds.Add(task.RoundId);
            if (task.RoundId >= stopAtRound) stop.Cancel();
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidDataException($"The data shard {shard.Path} has no examples.");
        }
    }

    private static EdgeClient NewClient(TestFederationServer server, ILocalTrainer trainer, string state)
    {
        var time = new FakeTimeProvider();
        var channel = FederationChannel.Create(server.Server.BaseAddress, new FederationChannelOptions
        {
            BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, MaxRetryAttempts = 5, BreakerFailureRatio = 1, BreakerMinimumThroughput = 1_000_000,
        }, time, server.Server.CreateHandler());
        return new EdgeClient(channel, trainer, new DataShard("empty.jsonl"), new EdgeClientOptions
        {
            Server = server.Server.BaseAddress, EnrollmentToken = TestFederationServer.EnrollToken, StateDirectory = state,
            MaxPollDelay = TimeSpan.Zero, PollJitter = TimeSpan.Zero,
        }, time);
    }

    [Fact]
    public async Task RunAsync_SelectedClientWithUnusableShard_DeclinesAndRoundIsAbandonedBeforeDeadline()
    {
        // Arrange: M = Q = 2, a good client and one whose shard is unusable; the round cannot reach its quorum.
        await using var server = await TestFederationServer.StartAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));   // a hang fails the test instead of the suite
        var bad = new UnusableShardTrainer(stopAtRound: 2, stop);
        var good = NewClient(server, new FakeTrainer(0), Path.Combine(server.DataDirectory, "good"));
        var declining = NewClient(server, bad, Path.Combine(server.DataDirectory, "bad"));

        // Act: run until the declining client is handed round 2.
        var runs = new[] { good.RunAsync(stop.Token), declining.RunAsync(stop.Token) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(runs));

        // Assert: round 1 closed, abandoned, with the fake clock still before its deadline; round 2 was opened.
        Assert.Contains(2L, bad.Rounds);
        var round1 = FederationDb.ReadRound(Path.Combine(server.DataDirectory, "federation.db"), 1);
        Assert.NotNull(round1);
        Assert.Equal(RoundPhase.Closed, round1.Phase);
        Assert.Equal(RoundOutcome.Abandoned, round1.Outcome);
        Assert.True(round1.ClosedAt < round1.Deadline, $"closed {round1.ClosedAt:O}, deadline {round1.Deadline:O}");
    }

    [Fact]
    public void ToDomain_LocalStepsBeyondLimit_ThrowsNamingField()
    {
        // Arrange: what a misconfigured (or older) server could send: τ = 2,000,000,000.
        var task = new RoundTask
        {
            FormatVersion = 1, Availability = TaskAvailability.Assigned, RoundId = 1,
            Fedkseed = new FedKSeedParameters { SeedCount = 16, LocalSteps = 2_000_000_000, Epsilon = 1e-3f, LearningRate = 1e-3f, BatchSize = 1 },
        };

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => EdgeClient.ToDomain(task));

        // Assert
        Assert.Contains("fedkseed.local_steps", ex.Message, StringComparison.Ordinal);
        Assert.Contains(TrainingLimits.MaxLocalSteps.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }
}
