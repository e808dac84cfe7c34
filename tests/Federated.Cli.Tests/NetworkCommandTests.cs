using System.CommandLine;
using Federated.Cli;
using Federated.Cli.Commands;
using Federated.TestKit;

namespace Federated.Cli.Tests;

[Collection("Console")]
public sealed class NetworkCommandTests
{
    [Theory]
    // Expected values computed once by an independent Python implementation (hashlib + struct, reading the safetensors
    // headers directly) of docs/protocol.md §Fingerprint; `federated serve` printed the same prefix for f16-sharded.
    [InlineData("tiny-gpt2", "d2f79195eeb71e4a1ee68f8bbdf6371e26c91527ae3d6374843064e22fd8109a", "791dbd27f41ecd1df9a357450a89829a5e2d10e980e3c79587c2fb6f5e83c0cc", 161792ul)]
    [InlineData("tiny-llama/f16-sharded", "5c5f44a7175a755caf62849e8a234a21b5973e108a1c837c011a045e5375dc6b", "701ae40dd0f0237c40372805cedb6c93ca1d3d877a19dfb56fb383b7c0dcb704", 176960ul)]
    public void ModelFingerprint_Fixture_MatchesIndependentComputation(string model, string sha, string weightsSha, ulong parameters)
    {
        // Act
        var fingerprint = ModelFingerprint.Compute(Fixtures.Path(model));

        // Assert
        Assert.Equal(sha, Convert.ToHexStringLower(fingerprint.Sha256));
        Assert.Equal(weightsSha, Convert.ToHexStringLower(fingerprint.WeightsSha256));
        Assert.Equal(parameters, fingerprint.ParameterCount);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("2h", 7200)]
    [InlineData("500ms", 0.5)]
    [InlineData("00:01:30", 90)]
    public void DurationParser_Valid_Seconds(string text, double seconds)
    {
        // Act
        var span = DurationParser.Parse(text, "--round-timeout");

        // Assert
        Assert.Equal(TimeSpan.FromSeconds(seconds), span);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5m")]
    [InlineData("ten minutes")]
    public void DurationParser_Invalid_ArgumentExceptionNamingOption(string text)
    {
        // Act
        var ex = Assert.Throws<ArgumentException>(() => DurationParser.Parse(text, "--round-timeout"));

        // Assert
        Assert.Contains("--round-timeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Join_TrainerFactoryReturnsNull_FailsWithExitCode1()
    {
        // Arrange
        var root = new RootCommand { JoinCommand.Create() };
        string[] args = ["join", "--server", "http://127.0.0.1:1", "--token", "t", "--model", Fixtures.Path("tiny-gpt2"),
            "--data", Fixtures.Path("tiny-gpt2/batch.json"), "--state", Path.Combine(Path.GetTempPath(), "federated-join-test")];
        var wired = JoinCommand.TrainerFactory;
        JoinCommand.TrainerFactory = (_, _) => null;

        // Act
        int code;
        try { code = CliRunner.Run(root, args); }
        finally { JoinCommand.TrainerFactory = wired; }

        // Assert
        Assert.Equal(CliRunner.Failure, code);
    }

    [Fact]
    public void Join_ServerNotAUrl_BadInputBeforeAnyWork()
    {
        // Arrange
        var root = new RootCommand { JoinCommand.Create() };
        string[] args = ["join", "--server", "127.0.0.1:5080", "--token", "t", "--model", Fixtures.Path("tiny-gpt2"), "--data", Fixtures.Path("tiny-gpt2/batch.json")];

        // Act
        var result = root.Parse(args);

        // Assert
        Assert.Contains(result.Errors, e => e.Message.Contains("not an http:// or https:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Join_Default_WiresATrainerForEitherMethod()
    {
        // Act
        var trainer = JoinCommand.TrainerFactory(Fixtures.Path("tiny-llama"), new Federated.Client.Edge.EdgeClientOptions
        {
            Server = new Uri("http://127.0.0.1:1"), EnrollmentToken = "t", StateDirectory = Path.Combine(Path.GetTempPath(), "federated-join-test-state"),
        });

        // Assert: nothing is selected (or loaded) before the federation's first task or model change says which.
        var selecting = Assert.IsType<Federated.Client.Training.MethodSelectingTrainer>(trainer);
        Assert.Null(selecting.Selected);
    }

    [Theory]
    [InlineData("--aggregate", "median", "--aggregate 'median'")]
    [InlineData("--lora-targets", "nope_proj", "target_modules [nope_proj]")]
    [InlineData("--density", "1.5", "Density")]
    public void Serve_CompeftBadOption_BadInputNamingIt(string option, string value, string message)
    {
        // Arrange
        string state = Path.Combine(Path.GetTempPath(), "federated-serve-test", Guid.NewGuid().ToString("N"));

        // Act
        var (code, _, error) = Commands.CliHarness.Run(ServeCommand.Create(), "serve", "--model", Fixtures.Path("tiny-llama"), "--method", "compeft",
            "--data-dir", state, "--port", "0", option, value);

        // Assert
        Assert.Equal(CliRunner.BadInput, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Join_MissingDataShard_BadInput()
    {
        // Arrange
        var root = new RootCommand { JoinCommand.Create() };
        string[] args = ["join", "--server", "http://127.0.0.1:1", "--token", "t", "--model", Fixtures.Path("tiny-gpt2"), "--data", "/nonexistent/shard.jsonl"];

        // Act
        int code = CliRunner.Run(root, args);

        // Assert
        Assert.Equal(CliRunner.BadInput, code);
    }

    [Fact]
    public void ServeAndJoin_Help_ContainWorkingExample()
    {
        // Act
        var serve = ServeCommand.Create();
        var join = JoinCommand.Create();

        // Assert
        Assert.Contains("federated serve --model", serve.Description, StringComparison.Ordinal);
        Assert.Contains("federated join --server", join.Description, StringComparison.Ordinal);
    }
}
