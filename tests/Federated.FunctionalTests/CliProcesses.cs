using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Federated.FunctionalTests;

/// <summary>
/// Real `federated` processes for the end-to-end tests: starts the built CLI (bin/&lt;Configuration&gt;/net10.0 of
/// cli/Federated.Cli, which the test project builds), collects every process's stdout/stderr into one tagged
/// <see cref="Log"/> for failure messages, and kills whatever is still running on dispose. Also owns the test's temp
/// directory and hands out free loopback ports.
/// </summary>
internal sealed class CliProcesses : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly StringBuilder _log = new();
    private readonly Dictionary<int, StringBuilder> _stdout = [];

    public CliProcesses(string category)
    {
        Directory = Path.Combine(Path.GetTempPath(), category, Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The test's scratch directory (deleted on dispose).</summary>
    public string Directory { get; }

    /// <summary>Everything the processes printed so far, each line tagged "[verb pid]".</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>tests/data/fixtures/&lt;name&gt; in the repository.</summary>
    public static string Fixture(string name) => Path.Combine(RepositoryRoot(), "tests", "data", "fixtures", name);

    /// <summary>Starts `dotnet federated.dll args…` with redirected output.</summary>
    public Process Start(params string[] args) => Start(null, args);

    /// <summary>What the process wrote to stdout alone (untagged), so far.</summary>
    public string StandardOutput(Process process)
    {
        lock (_stdout) return _stdout[process.Id].ToString();
    }

    /// <summary>Starts `dotnet federated.dll args…` with redirected output and extra environment variables.</summary>
    public Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;   // bin/<Configuration>/net10.0
        string cli = Path.Combine(RepositoryRoot(), "cli", "Federated.Cli", "bin", configuration, "net10.0", "federated.dll");
        Assert.True(File.Exists(cli), $"{cli} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        string tag = $"[{args[0]} {process.Id}] ";
        var stdout = new StringBuilder();
        lock (_stdout) _stdout[process.Id] = stdout;
        process.OutputDataReceived += (_, e) =>
        {
            lock (_log) _log.Append(tag).AppendLine(e.Data);
            if (e.Data is not null) lock (_stdout) stdout.AppendLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.Append(tag).AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_processes) _processes.Add(process);
        return process;
    }

    /// <summary>The exit code, or −1 when <paramref name="limit"/> passed first (the process keeps running until dispose).</summary>
    public static async Task<int> WaitExit(Process process, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return -1;
        }
    }

    /// <summary>SIGKILL (the whole tree) and wait for the exit.</summary>
    public static async Task Kill(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public static string Inv(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Federated.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Federated.sln not found above the test directory.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var process in _processes)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.Dispose();
            }
        }
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
