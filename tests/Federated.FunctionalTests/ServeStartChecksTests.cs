using System.Diagnostics;
using Federated.Core.Models;

namespace Federated.FunctionalTests;

/// <summary>
/// `federated serve` as a real process refuses to start on what it cannot serve correctly: a data directory created
/// with other model-defining settings (it would serve a different "version 3") and a model clients cannot load. Each
/// refusal is exit 2 with one line on stderr naming the difference or the file/tensor. Real processes; the waits are
/// bounds, nothing asserts on durations.
/// </summary>
public sealed class ServeStartChecksTests : IDisposable
{
    private const string Token = "start-check-token";
    private readonly CliProcesses _cli = new("federated-serve-checks");

    public static TheoryData<string, string, string> OtherSettings => new()
    {
        { "--learning-rate", "1E-06", "learning_rate 5E-06 → 1E-06" },   // 5e-6: serve's default η (FedKSeedSettings)
        { "--seed", "8", "seed_pool_master_seed 7 → 8" },
        { "--seed-count", "32", "seed_count 16 → 32" },
        { "--model", "tiny-gpt2", "base_model_sha256" },
        { "--method", "compeft", "method FedKSeed → ComPeft" },
    };

    [Theory]
    [MemberData(nameof(OtherSettings))]
    public async Task Serve_RestartOnDataDirWithOtherSetting_ExitsBadInputNamingTheDifference(string option, string value, string named)
    {
        // Arrange: a first server creates the state with the base settings.
        string state = Path.Combine(_cli.Directory, "state");
        await StartAndStopAsync(ServeArgs(state));

        // Act
        var restart = _cli.Start(ServeArgs(state, (option, value)));
        int code = await CliProcesses.WaitExit(restart, TimeSpan.FromSeconds(60));

        // Assert
        Assert.True(code == 2, $"exit {code}\n{_cli.Log}");
        var lines = OutputOf(restart);
        Assert.True(lines.Length == 1, _cli.Log);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.Contains(Path.Combine(state, "federation.db"), lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_RestartWithOtherRoundSettingsOnly_Starts()
    {
        // Arrange
        string state = Path.Combine(_cli.Directory, "state");
        await StartAndStopAsync(ServeArgs(state));

        // Act: rounds, quorum, M and τ only shape later rounds.
        await StartAndStopAsync(ServeArgs(state, ("--rounds", "9"), ("--min-clients", "1"), ("--clients-per-round", "1"), ("--local-steps", "3")));

        // Assert: StartAndStopAsync saw the server come up.
        Assert.DoesNotContain("error:", _cli.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nan", "tensor 'model.layers.1.mlp.up_proj.weight' holds a non-finite value (NaN) at element 5")]
    [InlineData("shape", "Tensor 'model.layers.0.mlp.gate_proj.weight'")]
    [InlineData("tokenizer", "tokenizer.json is not valid JSON")]
    public async Task Serve_UnusableModel_ExitsBadInputNamingTheProblem(string defect, string named)
    {
        // Arrange: a copy of the tiny Llama with one defect.
        string model = Path.Combine(_cli.Directory, "model");
        Directory.CreateDirectory(model);
        string source = CliProcesses.Fixture("tiny-llama");
        foreach (var file in new[] { "config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors" })
            File.Copy(Path.Combine(source, file), Path.Combine(model, file));
        switch (defect)
        {
            case "nan":
                var lm = CausalLm.Load(model);
                lm.Parameter("model.layers.1.mlp.up_proj.weight").Data[5] = float.NaN;
                lm.SaveWeights(Path.Combine(model, "model.safetensors"));
                break;
            case "shape":
                string config = Path.Combine(model, "config.json");
                File.WriteAllText(config, File.ReadAllText(config).Replace("\"intermediate_size\": 160", "\"intermediate_size\": 96", StringComparison.Ordinal));
                break;
            default:
                File.WriteAllText(Path.Combine(model, "tokenizer.json"), "{ \"model\": ");
                break;
        }

        // Act
        var serve = _cli.Start(ServeArgs(Path.Combine(_cli.Directory, "state"), ("--model", model)));
        int code = await CliProcesses.WaitExit(serve, TimeSpan.FromSeconds(60));

        // Assert
        Assert.True(code == 2, $"exit {code}\n{_cli.Log}");
        var lines = OutputOf(serve);
        Assert.True(lines.Length == 1, _cli.Log);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
    }

    /// <summary>serve on the tiny Llama (K 16, seed 7, FedKSeed) with <paramref name="overrides"/> replacing or adding options.</summary>
    private string[] ServeArgs(string state, params (string Option, string Value)[] overrides)
    {
        string tokens = Path.Combine(_cli.Directory, "tokens.txt");
        if (!File.Exists(tokens)) File.WriteAllText(tokens, Token + "\n");
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--model"] = CliProcesses.Fixture("tiny-llama"), ["--data-dir"] = state, ["--port"] = $"{CliProcesses.FreePort()}",
            ["--enroll-tokens"] = tokens, ["--seed-count"] = "16", ["--seed"] = "7", ["--rounds"] = "2", ["--clients-per-round"] = "2",
            ["--min-clients"] = "2",
        };
        foreach (var (option, value) in overrides)
            options[option] = option == "--model" && !Path.IsPathRooted(value) ? CliProcesses.Fixture(value) : value;
        return ["serve", .. options.SelectMany(o => new[] { o.Key, o.Value })];
    }

    /// <summary>Starts serve, waits until it has opened its state and listens (its "Ctrl-C stops." line), then SIGKILLs it.</summary>
    private async Task StartAndStopAsync(string[] args)
    {
        var serve = _cli.Start(args);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!OutputOf(serve).Any(l => l.Contains("Ctrl-C stops.", StringComparison.Ordinal)))
        {
            Assert.False(serve.HasExited, _cli.Log);
            await Task.Delay(100, limit.Token);
        }
        await CliProcesses.Kill(serve);
    }

    /// <summary>The non-empty lines <paramref name="process"/> printed (stdout and stderr).</summary>
    private string[] OutputOf(Process process)
    {
        string tag = $"[serve {process.Id}] ";
        return [.. _cli.Log.Split('\n').Where(l => l.StartsWith(tag, StringComparison.Ordinal)).Select(l => l[tag.Length..].TrimEnd('\r'))
            .Where(l => l.Length > 0)];
    }

    public void Dispose() => _cli.Dispose();
}
