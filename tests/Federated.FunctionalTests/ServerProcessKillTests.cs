using System.Diagnostics;
using System.Security.Cryptography;
using Federated.Client.Networking;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Storage;
using Google.Protobuf;

namespace Federated.FunctionalTests;

/// <summary>`federated serve` as a real process on a real loopback socket, killed with SIGKILL mid-round and
/// restarted on the same state directory: the accepted update survives, a retry of it is a duplicate, and the round
/// aggregates each update exactly once. Real time is unavoidable here (a real process); the client's backoff waits
/// for the restarted server, nothing asserts on durations.</summary>
public sealed class ServerProcessKillTests : IDisposable
{
    private readonly CliProcesses _cli = new("federated-kill");
    private Process? _server;

    [Fact]
    public async Task Serve_KilledWithSigkillMidRound_RestartKeepsAcceptedUpdateAndCountsItOnce()
    {
        // Arrange
        using var round = await OpenRoundAsync();
        var (a, b, fingerprint, task) = (round.A, round.B, round.Fingerprint, round.Task);
        var updateA = Update(task, fingerprint, 3);
        var first = await a.PushUpdateAsync(updateA, CancellationToken.None);

        // Act: SIGKILL, restart on the same state, retry A's push, then B's.
        await CliProcesses.Kill(_server!);
        StartServer(round.Port, round.Tokens);
        var retry = await a.PushUpdateAsync(updateA, CancellationToken.None);
        var statusBetween = await a.GetStatusAsync(CancellationToken.None);
        await b.PushUpdateAsync(Update(task, fingerprint, 5), CancellationToken.None);
        var model = await a.GetModelAsync(new ModelRequest { FormatVersion = 1, BaseModel = fingerprint }, CancellationToken.None);

        // Assert
        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate, _cli.Log);
        Assert.Equal(first.UpdateSha256, retry.UpdateSha256);
        Assert.Equal(1u, statusBetween.UpdatesReceived);
        Assert.Equal(1ul, model.Last.ModelVersion);
        Assert.Equal([3u, 5u], model.Last.SeedDelta.SeedIndices);
        Assert.Equal([0.5f, 0.5f], model.Last.SeedDelta.ScalarDeltas);   // each update once, weight 1/2
    }

    [Fact]
    public async Task Serve_KilledAfterQuorumUpdateCommittedBeforeAggregation_RestartAggregatesWithoutWaitingForDeadline()
    {
        // Arrange: A pushes; the server dies; B's update is committed to the stopped server's store in the one
        // transaction PushUpdate uses — the state a SIGKILL right after B's accept (the quorum) and before the
        // aggregation leaves. The round's deadline is 10 minutes away.
        using var round = await OpenRoundAsync();
        var (a, b, fingerprint, task) = (round.A, round.B, round.Fingerprint, round.Task);
        await a.PushUpdateAsync(Update(task, fingerprint, 3), CancellationToken.None);
        await CliProcesses.Kill(_server!);
        var updateB = Update(task, fingerprint, 5);
        byte[] payloadB = updateB.SeedScalars.ToByteArray();
        using (var store = new SqliteFederationStore(Path.Combine(_cli.Directory, "state", "federation.db")))
            Assert.True(store.AcceptUpdate(new AcceptedUpdate(round.ClientB, (long)task.RoundId, (long)task.ModelVersion, 1, payloadB,
                SHA256.HashData(payloadB), new Dictionary<string, double>(), DateTimeOffset.UtcNow)));

        // Act: restart; B never saw a receipt and pushes the same bytes again.
        StartServer(round.Port, round.Tokens);
        var status = await a.GetStatusAsync(CancellationToken.None);
        var retry = await b.PushUpdateAsync(updateB, CancellationToken.None);
        var model = await a.GetModelAsync(new ModelRequest { FormatVersion = 1, BaseModel = fingerprint }, CancellationToken.None);

        // Assert
        Assert.True(status.ModelVersion == 1, _cli.Log);
        Assert.True(retry.Duplicate);
        Assert.Equal(SHA256.HashData(payloadB), retry.UpdateSha256.ToByteArray());
        Assert.Equal(1ul, model.Last.ModelVersion);
        Assert.Equal([3u, 5u], model.Last.SeedDelta.SeedIndices);
        Assert.Equal([0.5f, 0.5f], model.Last.SeedDelta.ScalarDeltas);   // each update once, weight 1/2
    }

    /// <summary>Starts the server, enrolls clients a and b on two channels that wait out a restart, and opens round 1.</summary>
    private async Task<OpenRound> OpenRoundAsync()
    {
        string tokens = Path.Combine(_cli.Directory, "tokens.txt");
        await File.WriteAllTextAsync(tokens, "kill-test-token\n");
        int port = CliProcesses.FreePort();
        StartServer(port, tokens);
        var options = new FederationChannelOptions
        {
            BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), MaxRetryAttempts = 100,
            AttemptTimeout = TimeSpan.FromSeconds(20), BreakerMinimumThroughput = 1_000_000,
        };
        var uri = new Uri($"http://127.0.0.1:{port}");
        var a = FederationChannel.Create(uri, options);
        var b = FederationChannel.Create(uri, options);
        var enrollA = await Enroll(a, "a");
        var enrollB = await Enroll(b, "b");
        await a.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        await b.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        var task = await a.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        Assert.Equal(TaskAvailability.Assigned, task.Availability);
        return new OpenRound(a, b, enrollB.ClientId, enrollA.Federation.BaseModel, task, port, tokens);
    }

    private sealed record OpenRound(FederationChannel A, FederationChannel B, string ClientB, BaseModelFingerprint Fingerprint,
        RoundTask Task, int Port, string Tokens) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }
    }

    private static ClientUpdate Update(RoundTask task, BaseModelFingerprint fingerprint, uint seed)
    {
        var update = new ClientUpdate
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 1, BaseModel = fingerprint,
            SeedScalars = new SeedScalars { SeedIndices = { seed }, Scalars = { 1f } },
        };
        return update;
    }

    private static async Task<Enrollment> Enroll(FederationChannel channel, string name)
    {
        var enrollment = await channel.EnrollAsync(new EnrollmentRequest
        {
            FormatVersion = 1, EnrollmentToken = "kill-test-token",
            Client = new ClientInfo { Name = name, SupportedMethods = { TrainingMethod.Fedkseed } },
        }, CancellationToken.None);
        channel.BearerToken = enrollment.BearerToken;
        return enrollment;
    }

    private void StartServer(int port, string tokens) => _server = _cli.Start("serve", "--model", CliProcesses.Fixture(Path.Combine("tiny-llama", "f16-sharded")),
        "--data-dir", Path.Combine(_cli.Directory, "state"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--rounds", "2", "--clients-per-round", "2", "--min-clients", "2", "--enroll-tokens", tokens, "--seed-count", "16", "--local-steps", "4");

    public void Dispose() => _cli.Dispose();
}
