using Federated.Client.Edge;
using Federated.Client.Networking;
using Federated.Client.Training;
using Federated.Protocol.V1;
using Federated.Server.Storage;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;

namespace Federated.FunctionalTests;

/// <summary>Real EdgeClients against the real host over in-memory HTTP/2, with faults injected on the wire. Time is
/// frozen fake time on both sides (no deadline passes, no backoff waits: BaseDelay 0), so the runs are event-driven.</summary>
public sealed class EdgeClientNetworkTests
{
    private static FederationChannelOptions ChannelOptions(int retries = 30) => new()
    {
        BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, MaxRetryAttempts = retries,
        // The breaker is exercised in ResiliencePipelineTests on a moving fake clock; with a frozen clock it would never close.
        BreakerFailureRatio = 1, BreakerMinimumThroughput = 1_000_000,
    };

    private static (EdgeClient Client, FaultInjectingHandler Faults) NewClient(TestFederationServer server, ILocalTrainer trainer,
        string stateDirectory, int seed, double faultRate, FederationChannelOptions? channelOptions = null)
    {
        var faults = new FaultInjectingHandler(server.Server.CreateHandler(), seed, faultRate);
        var time = new FakeTimeProvider();
        var channel = FederationChannel.Create(server.Server.BaseAddress, channelOptions ?? ChannelOptions(), time, faults);
        var options = new EdgeClientOptions
        {
            Server = server.Server.BaseAddress, EnrollmentToken = TestFederationServer.EnrollToken, StateDirectory = stateDirectory,
            MaxPollDelay = TimeSpan.Zero, PollJitter = TimeSpan.Zero,
        };
        return (new EdgeClient(channel, trainer, new DataShard("shard.jsonl"), options, time), faults);
    }

    [Fact]
    public async Task RunAsync_ThreeClientsWithDropsAndDuplicates_FinishWithEveryAcceptedUpdateCountedOnce()
    {
        // Arrange: M = 3, Q = 2, 3 rounds; 30 % of all calls faulted (drop request, lose response, duplicate).
        await using var server = await TestFederationServer.StartAsync(o => o.Coordinator.ClientsPerRound = 3);
        var trainers = Enumerable.Range(0, 3).Select(i => new FakeTrainer(i)).ToArray();
        var clients = trainers.Select((t, i) => NewClient(server, t, Path.Combine(server.DataDirectory, "client" + i), 100 + i, 0.3)).ToArray();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));   // a hang fails the test instead of the suite

        // Act
        var summaries = await Task.WhenAll(clients.Select(c => c.Client.RunAsync(guard.Token)));

        // Assert
        var store = server.Store;
        Assert.True(clients.Sum(c => c.Faults.Injected) > 0);
        Assert.Equal(3, store.LatestVersion());
        for (long round = 1; round <= store.LatestRound()!.RoundId; round++)
        {
            int count = store.CountUpdates(round);
            Assert.True(count <= 2, $"round {round} has {count} accepted updates");
        }
        Assert.Equal(6, summaries.Sum(s => s.RoundsPushed));             // every accepted update acknowledged exactly once
        Assert.All(trainers, t => Assert.All(t.TrainCalls.Values, n => Assert.Equal(1, n)));   // no round trained twice
        var h = await server.Client.GetModel(new ModelRequest { FormatVersion = 1 }, TestFederationServer.Bearer(await server.EnrollAsync("observer")))
            .ResponseStream.ReadAllAsync().FirstAsync();
        Assert.Equal(6, h.SeedDelta.SeedIndices.Count);                   // 2 accepted updates × 3 rounds, distinct seeds
        Assert.All(h.SeedDelta.ScalarDeltas, v => Assert.Equal(0.5f, v)); // weight 1/2 each: nothing counted twice or lost
        Assert.All(trainers.Where(t => t.ModelVersion > 0), t => Assert.Equal(t.Applied.Sum(d => d.ToVersion - d.FromVersion), t.ModelVersion));
    }

    [Fact]
    public async Task RunAsync_CrashAfterTrainingBeforePush_RestartPushesPersistedUpdateWithoutRetraining()
    {
        // Arrange: one client, quorum 1, 2 rounds. First run: every PushUpdate is lost on the way, retries give up.
        await using var server = await TestFederationServer.StartAsync(o =>
        {
            o.Coordinator.ClientsPerRound = 1; o.Coordinator.MinClients = 1; o.Coordinator.Rounds = 2;
        });
        var trainer = new FakeTrainer(0);
        string state = Path.Combine(server.DataDirectory, "client");
        var (first, faults) = NewClient(server, trainer, state, 1, 0, ChannelOptions(retries: 2));
        faults.BlackHoled.Add("PushUpdate");
        await Assert.ThrowsAsync<RpcException>(() => first.RunAsync(CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(state, "pending-update.pb")));

        // Act: restart with a healthy network.
        var (second, _) = NewClient(server, trainer, state, 2, 0);
        var summary = await second.RunAsync(CancellationToken.None);

        // Assert
        Assert.Equal(1, trainer.TrainCalls[1]);
        Assert.Equal(1, trainer.TrainCalls[2]);
        Assert.Equal(2, summary.RoundsPushed);
        Assert.Equal(2, server.Store.LatestVersion());
        Assert.False(File.Exists(Path.Combine(state, "pending-update.pb")));
    }

    [Fact]
    public async Task RunAsync_CrashAfterServerAcceptedPush_RestartNeverRetrainsThatRound()
    {
        // Arrange: the push reaches the server (and is aggregated) but every receipt is lost; the client gives up.
        await using var server = await TestFederationServer.StartAsync(o =>
        {
            o.Coordinator.ClientsPerRound = 1; o.Coordinator.MinClients = 1; o.Coordinator.Rounds = 2;
        });
        var trainer = new FakeTrainer(0);
        string state = Path.Combine(server.DataDirectory, "client");
        var (first, faults) = NewClient(server, trainer, state, 1, 0, ChannelOptions(retries: 1));
        faults.LoseResponses.Add("PushUpdate");
        await Assert.ThrowsAsync<RpcException>(() => first.RunAsync(CancellationToken.None));

        // Act
        var (second, _) = NewClient(server, trainer, state, 2, 0);
        await second.RunAsync(CancellationToken.None);

        // Assert: round 1 was accepted once, by the first run's first attempt; the retry was a duplicate.
        Assert.Equal(1, trainer.TrainCalls[1]);
        Assert.Equal(1, trainer.TrainCalls[2]);
        Assert.Equal(1, server.Store.CountUpdates(1));
        Assert.Equal(2, server.Store.LatestVersion());
        Assert.Equal(2, trainer.ModelVersion);
    }

    [Fact]
    public async Task RunAsync_ServerRestartMidRound_ClientsFinishAndNothingCountedTwice()
    {
        // Arrange: both clients train round 1; one push is lost; the server restarts from its SQLite file.
        await using var server = await TestFederationServer.StartAsync(o => o.Coordinator.Rounds = 2);
        var trainers = new[] { new FakeTrainer(0), new FakeTrainer(1) };
        var a = NewClient(server, trainers[0], Path.Combine(server.DataDirectory, "a"), 1, 0, ChannelOptions(retries: 1));
        a.Faults.BlackHoled.Add("PushUpdate");
        var b = NewClient(server, trainers[1], Path.Combine(server.DataDirectory, "b"), 2, 0);
        var runB = b.Client.RunAsync(CancellationToken.None);
        await Assert.ThrowsAsync<RpcException>(() => a.Client.RunAsync(CancellationToken.None));

        // Act
        await server.RestartAsync();
        var a2 = NewClient(server, trainers[0], Path.Combine(server.DataDirectory, "a"), 3, 0);
        var b2 = NewClient(server, trainers[1], Path.Combine(server.DataDirectory, "b"), 4, 0);
        await Assert.ThrowsAnyAsync<Exception>(() => runB);    // b's channel pointed at the stopped server
        var summaries = await Task.WhenAll(a2.Client.RunAsync(CancellationToken.None), b2.Client.RunAsync(CancellationToken.None));

        // Assert
        Assert.Equal(2, server.Store.LatestVersion());
        Assert.Equal(2, server.Store.CountUpdates(1));
        Assert.All(trainers, t => Assert.Equal(1, t.TrainCalls[1]));
        var h = await server.Client.GetModel(new ModelRequest { FormatVersion = 1 }, TestFederationServer.Bearer(await server.EnrollAsync("observer")))
            .ResponseStream.ReadAllAsync().FirstAsync();
        Assert.Equal(4, h.SeedDelta.SeedIndices.Count);
        Assert.All(h.SeedDelta.ScalarDeltas, v => Assert.Equal(0.5f, v));
    }

    // Quorum 1, one round, and no wait for other enrolled clients (a stray or squatting enrollment never polls).
    private static void OneClientOneRound(Federated.Server.Host.FederationServerOptions o)
    {
        o.Coordinator.ClientsPerRound = 1; o.Coordinator.MinClients = 1; o.Coordinator.Rounds = 1; o.Coordinator.SelectionWindow = TimeSpan.Zero;
    }

    [Fact]
    public async Task RunAsync_EnrollAnswerLostThenRestarted_SameIdentityAndNoStrayClient()
    {
        // Arrange: the first run's Enroll reaches the server, its answer is lost, the client gives up.
        await using var server = await TestFederationServer.StartAsync(OneClientOneRound);
        string state = Path.Combine(server.DataDirectory, "client");
        var (first, faults) = NewClient(server, new FakeTrainer(0), state, 1, 0, ChannelOptions(retries: 1));
        faults.LoseResponses.Add("Enroll");
        await Assert.ThrowsAsync<RpcException>(() => first.RunAsync(CancellationToken.None));
        int enrolledAfterLostAnswers = server.Store.CountClients();

        // Act: a restart on the same state directory, healthy network.
        var (second, _) = NewClient(server, new FakeTrainer(0), state, 2, 0);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var summary = await second.RunAsync(guard.Token);

        // Assert: the retries were the same enrollment (the client's saved credential), not new clients.
        Assert.Equal(1, enrolledAfterLostAnswers);
        Assert.Equal(1, server.Store.CountClients());
        Assert.Equal(1, summary.RoundsPushed);
        Assert.NotNull(server.Store.FindClient(summary.ClientId));
    }

    [Fact]
    public async Task RunAsync_NameAlreadyEnrolledByAnother_EnrollsUnderNewNameAndOtherKeepsItsIdentity()
    {
        // Arrange: someone enrolled the name this fresh state directory is about to use.
        await using var server = await TestFederationServer.StartAsync(OneClientOneRound);
        string state = Path.Combine(server.DataDirectory, "client");
        Directory.CreateDirectory(state);
        File.WriteAllText(Path.Combine(state, "client.json"), """{ "client_name": "edge-taken" }""");
        var squatter = await server.EnrollAsync("edge-taken");

        // Act
        var (client, _) = NewClient(server, new FakeTrainer(0), state, 1, 0);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var summary = await client.RunAsync(guard.Token);

        // Assert
        Assert.NotEqual(squatter.ClientId, summary.ClientId);
        Assert.Equal(1, summary.RoundsPushed);
        Assert.DoesNotContain("edge-taken", File.ReadAllText(Path.Combine(state, "client.json")), StringComparison.Ordinal);
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(squatter));
        Assert.Equal(2u, status.EnrolledClients);
    }

    [Fact]
    public async Task RunAsync_StateOfAnotherServer_ClearErrorAndStateKept()
    {
        // Arrange: the state directory holds an identity issued by another server address.
        await using var server = await TestFederationServer.StartAsync(OneClientOneRound);
        string state = Path.Combine(server.DataDirectory, "client");
        Directory.CreateDirectory(state);
        string file = Path.Combine(state, "client.json");
        File.WriteAllText(file, """{ "server": "http://10.1.2.3:5080/", "client_name": "edge-1", "client_id": "c-1", "bearer_token": "secret-of-the-other-server" }""");
        string before = File.ReadAllText(file);

        // Act
        var (client, faults) = NewClient(server, new FakeTrainer(0), state, 1, 0);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => client.RunAsync(CancellationToken.None));

        // Assert: nothing was sent anywhere (the other server's credential included) and the state is untouched.
        Assert.Contains("--server http://10.1.2.3:5080/", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, faults.Calls("Enroll"));
        Assert.Equal(before, File.ReadAllText(file));
        Assert.Equal(0, server.Store.CountClients());
    }
}
