using Federated.Client.Networking;
using Federated.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Federated.FunctionalTests;

/// <summary>Per-client rate limits on Enroll and PushUpdate (ASP.NET Core rate limiting, 3 calls per 10-minute window,
/// so the window never rolls over during a test): the call after the limit is RESOURCE_EXHAUSTED with a
/// `grpc-retry-pushback-ms` trailer, other clients and other RPCs are unaffected; a FederationChannel waits out the
/// pushback and retries, but never retries an oversized message (RESOURCE_EXHAUSTED without pushback).</summary>
public sealed class RateLimitTests
{
    private static async Task<StatusCode> CodeOf(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

    private static Task<TestFederationServer> StartAsync(bool kestrel) => TestFederationServer.StartAsync(o =>
    {
        o.RateLimitPermits = 3;
        o.RateLimitWindow = TimeSpan.FromMinutes(10);
    }, kestrel);

    private static ClientUpdate Update(RoundTask task, int seedCount) => new()
    {
        FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 1,
        SeedScalars = new SeedScalars { SeedIndices = { Enumerable.Range(1, seedCount).Select(i => (uint)i) }, Scalars = { Enumerable.Repeat(1f, seedCount) } },
    };

    /// <summary>A channel on a fake clock (it waits only when the test advances it) that counts the calls reaching the
    /// server and records its logs; the breaker is kept out of the way.</summary>
    private static (FederationChannel Channel, FaultInjectingHandler Counter, RecordingLogger Log, FakeTimeProvider Time) NewChannel(
        TestFederationServer server, int retries)
    {
        var time = new FakeTimeProvider();
        var counter = new FaultInjectingHandler(server.Server.CreateHandler(), seed: 0, faultRate: 0);
        var log = new RecordingLogger();
        var loggers = LoggerFactory.Create(b => b.AddProvider(log));
        var options = new FederationChannelOptions
        {
            BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, MaxRetryAttempts = retries,
            BreakerFailureRatio = 1, BreakerMinimumThroughput = 1_000_000,
        };
        return (FederationChannel.Create(server.BaseAddress, options, time, counter, loggers), counter, log, time);
    }

    private static readonly string ChannelCategory = typeof(FederationChannel).FullName!;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_FourthCallOfOneClient_ResourceExhaustedOthersUnaffected(bool kestrel)
    {
        // Arrange: round 1 open for a and b.
        await using var server = await StartAsync(kestrel);
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        ClientUpdate Update(uint seed) => new()
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 1,
            SeedScalars = new SeedScalars { SeedIndices = { seed }, Scalars = { 1f } },
        };

        // Act: a pushes once and retries twice (duplicates), then a fourth time; b pushes once.
        var receipts = new List<UpdateReceipt>();
        for (int i = 0; i < 3; i++) receipts.Add(await server.Client.PushUpdateAsync(Update(1), TestFederationServer.Bearer(a)));
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.PushUpdateAsync(Update(1), TestFederationServer.Bearer(a)));
        var statusCalls = new List<FederationStatus>();
        for (int i = 0; i < 5; i++) statusCalls.Add(await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a)));
        var fromB = await server.Client.PushUpdateAsync(Update(2), TestFederationServer.Bearer(b));

        // Assert
        Assert.Equal([false, true, true], receipts.Select(r => r.Duplicate));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("limit is 3", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("600000", ex.Trailers.GetValue("grpc-retry-pushback-ms"));   // the 10-minute window, in ms
        Assert.Equal(5, statusCalls.Count);
        Assert.False(fromB.Duplicate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Enroll_FourthCallFromOneAddress_ResourceExhausted(bool kestrel)
    {
        // Arrange
        await using var server = await StartAsync(kestrel);

        // Act
        var first = await server.EnrollAsync("c0");
        for (int i = 1; i < 3; i++) await server.EnrollAsync($"c{i}");
        var fourth = await CodeOf(() => server.EnrollAsync("c3"));
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(first));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, fourth);
        Assert.Equal(3u, status.EnrolledClients);
    }

    [Fact]
    public async Task PushUpdate_SecondQuickCallOverLimit_ChannelWaitsOutPushbackThenSucceeds()
    {
        // Arrange: one PushUpdate per 1 s window, one client per round. ASP.NET Core's limiter runs on the real clock
        // (System.Threading.RateLimiting takes no TimeProvider); the channel runs on a fake one. The test moves the
        // channel's clock past each wait it asks for (1 s pushback + ≤ 20 % jitter) and lets real time roll the
        // server's window over; nothing is asserted about time.
        await using var server = await TestFederationServer.StartAsync(o =>
        {
            o.Coordinator.ClientsPerRound = 1; o.Coordinator.MinClients = 1;
            o.RateLimitPermits = 1; o.RateLimitWindow = TimeSpan.FromSeconds(1);
        });
        var a = await server.EnrollAsync("a");
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var (channel, counter, log, time) = NewChannel(server, retries: 100);
        using var disposeChannel = channel;
        channel.BearerToken = a.BearerToken;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));   // a hang fails the test, not the suite

        // Act: quick pushes of the same update; the second is over the limit unless the fixed window happened to roll
        // over between the two (possible on a loaded machine), in which case the next quick push is.
        var first = await channel.PushUpdateAsync(Update(task, 1), guard.Token);
        int pushes = 1;
        UpdateReceipt again;
        do
        {
            var pending = channel.PushUpdateAsync(Update(task, 1), guard.Token);
            pushes++;
            while (!pending.IsCompleted)
            {
                time.Advance(TimeSpan.FromSeconds(10));
                await Task.Delay(100, guard.Token);
            }
            again = await pending;
        }
        while (counter.Calls("PushUpdate") == pushes && pushes < 5);

        // Assert: refused at least once, then admitted (a duplicate of the first); one wait logged per refusal.
        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        int refusals = counter.Calls("PushUpdate") - pushes;
        Assert.True(refusals >= 1, $"{counter.Calls("PushUpdate")} PushUpdate calls reached the server");
        var waits = log.Of(ChannelCategory, 302);
        Assert.Equal(refusals, waits.Count);
        Assert.All(waits, w =>
        {
            Assert.Equal(LogLevel.Information, w.Level);
            Assert.InRange((double)w.Values["Seconds"]!, 1.0, 1.2);   // ≥ the server's pushback (its window)
        });
    }

    [Fact]
    public async Task PushUpdate_PayloadAboveMessageLimit_FailsAtOnceWithoutRetry()
    {
        // Arrange: the fixture's MaxMessageBytes is 16 KiB; 5,000 seeds are ≈ 30 KB (≥ 1 byte per index + 4 per scalar).
        await using var server = await StartAsync(kestrel: false);
        var a = await server.EnrollAsync("a");
        var (channel, counter, log, _) = NewChannel(server, retries: 5);
        using var disposeChannel = channel;
        channel.BearerToken = a.BearerToken;
        var oversized = Update(new RoundTask { RoundId = 1 }, 5_000);

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.PushUpdateAsync(oversized, CancellationToken.None));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Null(ex.Trailers.GetValue("grpc-retry-pushback-ms"));
        Assert.Equal(1, counter.Calls("PushUpdate"));
        Assert.Empty(log.Of(ChannelCategory, 302));
    }
}
