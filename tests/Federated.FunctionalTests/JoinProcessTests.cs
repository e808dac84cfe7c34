using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Federated.Data;
using Federated.Server.Domain;

namespace Federated.FunctionalTests;

/// <summary>`federated serve` and `federated join` as real processes on loopback (issue #15 item 6): `join --json`
/// prints exactly one JSON object on stdout; a join killed with SIGKILL leaves no scratch file behind; a join whose shard
/// is unusable declines its task, so the round closes long before its deadline. Real processes and real time; nothing
/// asserts on durations (waits are limits that fail the test instead of hanging it).</summary>
public sealed class JoinProcessTests : IDisposable
{
    private const string Token = "join-process-token";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly CliProcesses _cli = new("federated-join-process");

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Join_Json_StdoutIsExactlyOneJsonObject()
    {
        // Arrange: one round, quorum 1, one client.
        int port = await StartServerAsync("--rounds", "1", "--clients-per-round", "1", "--min-clients", "1");
        string shard = WriteShard("good.jsonl", 4);

        // Act
        var join = StartJoin(port, shard, "client", null, "--json");
        int exit = await CliProcesses.WaitExit(join, Limit);

        // Assert
        Assert.True(exit == 0, _cli.Log);
        string stdout = _cli.StandardOutput(join);
        using var json = JsonDocument.Parse(stdout);   // throws when a log line sits beside the object
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.Equal(1, json.RootElement.GetProperty("rounds_pushed").GetInt64());
    }

    [Fact]
    public async Task Join_KilledWithSigkill_LeavesNoScratchFileAndRestartDeletesStaleOnes()
    {
        // Arrange: one client training round after round; its held-weights file exists from its first task on.
        int port = await StartServerAsync("--rounds", "10000", "--clients-per-round", "1", "--min-clients", "1");
        string shard = WriteShard("good.jsonl", 4);
        string temp = Path.Combine(_cli.Directory, "tmp");
        Directory.CreateDirectory(temp);
        var environment = new Dictionary<string, string> { ["TMPDIR"] = temp + "/", ["DOTNET_EnableDiagnostics"] = "0" };
        var first = StartJoin(port, shard, "client", environment);
        await WaitForLogAsync(first, "trained on");

        // Act: SIGKILL, plant what an older build would have left, start again.
        await CliProcesses.Kill(first);
        var leftInTemp = Directory.GetFiles(temp, "*", SearchOption.AllDirectories);
        string scratch = Path.Combine(_cli.Directory, "client", "scratch");
        var leftInScratch = Directory.Exists(scratch) ? Directory.GetFiles(scratch) : [];
        string stale = Path.Combine(scratch, $"held-weights-{first.Id}-{Guid.NewGuid():N}.bin");
        Directory.CreateDirectory(scratch);
        await File.WriteAllBytesAsync(stale, new byte[1024]);
        var second = StartJoin(port, shard, "client", environment);
        await WaitForLogAsync(second, "started at model version");   // after the stale-file sweep

        // Assert
        Assert.True(leftInTemp.Length == 0, "left in TMPDIR: " + string.Join(", ", leftInTemp));
        Assert.True(leftInScratch.Length == 0, "left in STATE/scratch: " + string.Join(", ", leftInScratch));
        Assert.False(File.Exists(stale), "the stale scratch file survived the restart");
    }

    [Fact]
    public async Task Join_SelectedClientWithEmptyShard_DeclinesAndRoundClosesBeforeDeadline()
    {
        // Arrange: M = Q = 2 and a one-hour deadline; one client's shard is empty, so round 1 cannot reach its quorum.
        int port = await StartServerAsync("--rounds", "1", "--clients-per-round", "2", "--min-clients", "2", "--round-timeout", "1h");
        string good = WriteShard("good.jsonl", 4);
        string empty = Path.Combine(_cli.Directory, "empty.jsonl");
        await File.WriteAllTextAsync(empty, "");
        StartJoin(port, good, "good", null);
        StartJoin(port, empty, "empty", null);
        string db = Path.Combine(_cli.Directory, "server", "federation.db");

        // Act: wait until round 1 is closed (or the limit passes: the deadline is an hour away).
        FederationDb.RoundRow? round1 = null;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Limit && round1?.Phase != RoundPhase.Closed)
        {
            await Task.Delay(500);
            round1 = FederationDb.ReadRound(db, 1);
        }

        // Assert
        Assert.True(round1 is { Phase: RoundPhase.Closed }, "round 1 is still open\n" + _cli.Log);
        Assert.Equal(RoundOutcome.Abandoned, round1.Outcome);
        Assert.True(round1.ClosedAt < round1.Deadline);
        Assert.Contains("declined", _cli.Log, StringComparison.Ordinal);
    }

    private async Task<int> StartServerAsync(params string[] roundArgs)
    {
        string tokens = Path.Combine(_cli.Directory, "tokens.txt");
        await File.WriteAllTextAsync(tokens, Token + "\n");
        int port = CliProcesses.FreePort();
        _cli.Start(["serve", "--model", CliProcesses.Fixture("tiny-llama"), "--data-dir", Path.Combine(_cli.Directory, "server"),
            "--port", port.ToString(CultureInfo.InvariantCulture), "--enroll-tokens", tokens, "--seed-count", "16", "--local-steps", "2",
            .. roundArgs]);
        return port;
    }

    private Process StartJoin(int port, string shard, string name, IReadOnlyDictionary<string, string>? environment, params string[] extra) =>
        _cli.Start(environment, ["join", "--server", $"http://127.0.0.1:{port}", "--token", Token, "--model", CliProcesses.Fixture("tiny-llama"),
            "--data", shard, "--state", Path.Combine(_cli.Directory, name), .. extra]);

    private string WriteShard(string name, int records)
    {
        string path = Path.Combine(_cli.Directory, name);
        InstructionDatasetWriter.Write(path, Enumerable.Range(0, records).Select(i =>
            new InstructionExample($"Define word number {i}.", "", $"Word {i} is a noun.", "cat0")));
        return path;
    }

    /// <summary>Waits until the process logged a line containing <paramref name="text"/> (fails after the limit or on exit).</summary>
    private async Task WaitForLogAsync(Process process, string text)
    {
        string tag = $"[join {process.Id}] ";
        var watch = Stopwatch.StartNew();
        while (!_cli.Log.Split('\n').Any(l => l.StartsWith(tag, StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(watch.Elapsed < Limit && !process.HasExited, $"join {process.Id} never logged '{text}'\n{_cli.Log}");
            await Task.Delay(200);
        }
    }
}
