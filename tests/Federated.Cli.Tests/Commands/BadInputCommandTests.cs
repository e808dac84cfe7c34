using System.Net;
using System.Net.Sockets;
using Federated.Cli.Commands;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>Bad input the verbs refuse with exit 2 and one line naming the file, tensor or option (issue #15 item 6):
/// non-finite weights, non-UTF-8 text, a corrupt federation.db, sizes beyond <see cref="Federated.Core.TrainingLimits"/>.</summary>
[Collection("Console")]
public sealed class BadInputCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cli-bad-input-{Guid.NewGuid():N}");

    public BadInputCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void Score_ModelWithNaNWeight_ExitsTwoNamingTensor()
    {
        // Arrange: tiny-llama with one NaN in a q_proj, saved as a checkpoint folder of its own.
        string model = Path.Combine(_dir, "nan-model");
        Directory.CreateDirectory(model);
        foreach (var file in new[] { "config.json", "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Fixtures.Path("tiny-llama", file), Path.Combine(model, file));
        var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        const string tensor = "model.layers.1.self_attn.q_proj.weight";
        lm.Parameter(tensor).Data[3] = float.NaN;
        lm.SaveWeights(Path.Combine(model, "model.safetensors"));
        string data = Path.Combine(_dir, "lines.jsonl");
        File.WriteAllText(data, "{\"text\": \"a short line of text\"}\n");

        // Act
        var (exitCode, output, error) = CliHarness.Run(ScoreCommand.Create(), "score", "--model", model, "--data", data, "--json");

        // Assert
        Assert.True(exitCode == CliRunner.BadInput, $"exit {exitCode}: {output} {error}");
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(tensor, line, StringComparison.Ordinal);
        Assert.Contains(model, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_NonUtf8Line_ExitsTwoNamingFileAndLine()
    {
        // Arrange: line 2 holds a Latin-1 'é'.
        string data = Path.Combine(_dir, "latin1.jsonl");
        File.WriteAllBytes(data, [.. "{\"text\": \"fine\"}\n{\"text\": \"caf"u8.ToArray(), 0xE9, .. "\"}\n"u8.ToArray()]);

        // Act
        var (exitCode, output, error) = CliHarness.Run(ScoreCommand.Create(), "score", "--model", Fixtures.Path("tiny-llama"), "--data", data);

        // Assert
        Assert.True(exitCode == CliRunner.BadInput, $"exit {exitCode}: {output} {error}");
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{data}:2:", line, StringComparison.Ordinal);
        Assert.Contains("UTF-8", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_CorruptFederationDb_ExitsTwoWithOneLineNamingTheFile()
    {
        // Arrange
        string state = Path.Combine(_dir, "state");
        Directory.CreateDirectory(state);
        string db = Path.Combine(state, "federation.db");
        File.WriteAllBytes(db, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 31 + 7))]);

        // Act
        var (exitCode, _, error) = CliHarness.Run(ServeCommand.Create(), "serve", "--model", Fixtures.Path("tiny-llama"),
            "--data-dir", state, "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Assert
        Assert.True(exitCode == CliRunner.BadInput, $"exit {exitCode}: {error}");
        var errorLines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Contains(db, Assert.Single(errorLines), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate", "--local-steps", "2000000000")]
    [InlineData("simulate", "--seeds", "70000")]
    [InlineData("simulate", "--rounds", "100001")]
    [InlineData("serve", "--local-steps", "2000000000")]
    [InlineData("serve", "--rounds", "100001")]
    public void Verb_SizeBeyondLimit_ExitsTwoNamingOption(string verb, string option, string value)
    {
        // Arrange
        string[] args = verb == "simulate"
            ? ["simulate", "--model", Fixtures.Path("tiny-llama"), "--data", TinyJsonl.Write(), "--clients", "2", "--clients-per-round", "2",
                "--out", Path.Combine(_dir, "out"), option, value]
            : ["serve", "--model", Fixtures.Path("tiny-llama"), "--data-dir", Path.Combine(_dir, "state"),
                "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), option, value];

        // Act
        var (exitCode, _, error) = CliHarness.Run(verb == "simulate" ? SimulateCommand.Create() : ServeCommand.Create(), args);

        // Assert
        Assert.True(exitCode == CliRunner.BadInput, $"exit {exitCode}: {error}");
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains(option, line, StringComparison.Ordinal);
        Assert.Contains(value, line, StringComparison.Ordinal);
        if (verb == "serve")   // a refused start generates no enrollment token
            Assert.False(File.Exists(Path.Combine(_dir, "state", "enroll-token.txt")), "serve wrote enroll-token.txt before refusing its options");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
