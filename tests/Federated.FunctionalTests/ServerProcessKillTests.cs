using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Federated.Client.Networking;
using Federated.Protocol.V1;

namespace Federated.FunctionalTests;

/// <summary>`federated serve` as a real process on a real loopback socket, killed with SIGKILL mid-round and
/// restarted on the same state directory: the accepted update survives, a retry of it is a duplicate, and the round
/// aggregates each update exactly once. Real time is unavoidable here (a real process); the client's backoff waits
/// for the restarted server, nothing asserts on durations.</summary>
public sealed class ServerProcessKillTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "federated-kill", Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _serverLog = new();
    private Process? _server;

    [Fact]
    public async Task Serve_KilledWithSigkillMidRound_RestartKeepsAcceptedUpdateAndCountsItOnce()
    {
        // Arrange
        Directory.CreateDirectory(_directory);
        string tokens = Path.Combine(_directory, "tokens.txt");
        await File.WriteAllTextAsync(tokens, "kill-test-token\n");
        int port = FreePort();
        StartServer(port, tokens);
        var options = new FederationChannelOptions
        {
            BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), MaxRetryAttempts = 100,
            AttemptTimeout = TimeSpan.FromSeconds(20), BreakerMinimumThroughput = 1_000_000,
        };
        var uri = new Uri($"http://127.0.0.1:{port}");
        using var a = FederationChannel.Create(uri, options);
        using var b = FederationChannel.Create(uri, options);
        var enrollA = await Enroll(a, "a");
        var enrollB = await Enroll(b, "b");
        var fingerprint = enrollA.Federation.BaseModel;
        await a.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        await b.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        var task = await a.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, CancellationToken.None);
        Assert.Equal(TaskAvailability.Assigned, task.Availability);
        var updateA = Update(task, fingerprint, 3);
        var first = await a.PushUpdateAsync(updateA, CancellationToken.None);

        // Act: SIGKILL, restart on the same state, retry A's push, then B's.
        _server!.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        StartServer(port, tokens);
        var retry = await a.PushUpdateAsync(updateA, CancellationToken.None);
        var statusBetween = await a.GetStatusAsync(CancellationToken.None);
        await b.PushUpdateAsync(Update(task, fingerprint, 5), CancellationToken.None);
        var model = await a.GetModelAsync(new ModelRequest { FormatVersion = 1, BaseModel = fingerprint }, CancellationToken.None);

        // Assert
        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate, _serverLog.ToString());
        Assert.Equal(first.UpdateSha256, retry.UpdateSha256);
        Assert.Equal(1u, statusBetween.UpdatesReceived);
        Assert.Equal(1ul, model.Last.ModelVersion);
        Assert.Equal([3u, 5u], model.Last.SeedDelta.SeedIndices);
        Assert.Equal([0.5f, 0.5f], model.Last.SeedDelta.ScalarDeltas);   // each update once, weight 1/2
        _ = enrollB;
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

    private void StartServer(int port, string tokens)
    {
        string root = RepositoryRoot();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;   // bin/<Configuration>/net10.0
        string cli = Path.Combine(root, "cli", "Federated.Cli", "bin", configuration, "net10.0", "federated.dll");
        Assert.True(File.Exists(cli), $"{cli} was not built");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            ArgumentList =
            {
                cli, "serve", "--model", Path.Combine(root, "tests", "data", "fixtures", "tiny-llama", "f16-sharded"),
                "--data-dir", Path.Combine(_directory, "state"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--rounds", "2", "--clients-per-round", "2", "--min-clients", "2", "--enroll-tokens", tokens, "--seed-count", "16", "--local-steps", "4",
            },
        };
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, e) => { lock (_serverLog) _serverLog.AppendLine(e.Data); };
        _server.ErrorDataReceived += (_, e) => { lock (_serverLog) _serverLog.AppendLine(e.Data); };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Federated.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Federated.sln not found above the test directory.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (_server is { HasExited: false }) _server.Kill(entireProcessTree: true);
        _server?.Dispose();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }
}
