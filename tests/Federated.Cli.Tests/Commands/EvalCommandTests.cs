using System.Text.Json;
using Federated.Cli.Commands;
using Federated.TestKit;

namespace Federated.Cli.Tests.Commands;

/// <summary>`federated eval --compare` on the tiny-llama fixture (console captured, serial).</summary>
[Collection("Console")]
public sealed class EvalCommandTests
{
    private static (int ExitCode, JsonElement Root, string Error) RunJson(string model, string compare)
    {
        var (exitCode, output, error) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", model, "--compare", compare, "--max-examples", "10", "--generation-examples", "2", "--threads", "1", "--json"]);
        return (exitCode, exitCode == 0 ? JsonDocument.Parse(output).RootElement : default, error);
    }

    [Fact]
    public void Eval_CompareModelWithItself_DeltasAreExactlyZero()
    {
        // Act
        var (exitCode, root, error) = RunJson(Fixtures.Path("tiny-llama"), Fixtures.Path("tiny-llama"));

        // Assert
        Assert.True(exitCode == 0, error);
        var compare = root.GetProperty("compare");
        Assert.Equal(root.GetProperty("loss").GetDouble(), compare.GetProperty("base").GetProperty("loss").GetDouble());
        foreach (var metric in new[] { "loss", "rouge_l", "accuracy" })
        {
            var delta = compare.GetProperty("delta").GetProperty(metric);
            Assert.Equal(0.0, delta.GetProperty("mean").GetDouble());
            Assert.Equal(0.0, delta.GetProperty("se").GetDouble());
            Assert.Equal(0.0, delta.GetProperty("t").GetDouble());
        }
        Assert.Equal(10, compare.GetProperty("delta").GetProperty("loss").GetProperty("n").GetInt32());
        Assert.Equal(2, compare.GetProperty("delta").GetProperty("rouge_l").GetProperty("n").GetInt32());
    }

    [Fact]
    public void Eval_CompareBf16WithFloat32_LossDeltaIsModelMinusBaseLoss()
    {
        // Act: the bf16 copy of the fixture has the same tokenizer and rounded weights, so the losses differ a little.
        var (exitCode, root, error) = RunJson(Fixtures.Path("tiny-llama/bf16"), Fixtures.Path("tiny-llama"));

        // Assert
        Assert.True(exitCode == 0, error);
        var compare = root.GetProperty("compare");
        double model = root.GetProperty("loss").GetDouble(), baseline = compare.GetProperty("base").GetProperty("loss").GetDouble();
        var loss = compare.GetProperty("delta").GetProperty("loss");
        Assert.NotEqual(model, baseline);
        Assert.Equal(model - baseline, loss.GetProperty("mean").GetDouble(), 12);
        double se = loss.GetProperty("se").GetDouble();
        Assert.True(se > 0);
        Assert.Equal(loss.GetProperty("mean").GetDouble() / se, loss.GetProperty("t").GetDouble(), 9);
        var interval = loss.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(interval[0] < model - baseline && model - baseline < interval[1]);
    }

    [Fact]
    public void Eval_CompareAdapterAgainstBareBase_ChangesTheLossAndSameAdapterDoesNot()
    {
        // Arrange
        string model = Fixtures.Path("tiny-llama"), adapter = Fixtures.Path("tiny-llama/lora-adapter");
        string[] common = ["--max-examples", "6", "--generation-examples", "0", "--threads", "1", "--json"];

        // Act
        var (againstBare, bareOut, bareError) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", model, "--adapter", adapter, "--compare", model, .. common]);
        var (againstSame, sameOut, sameError) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", model, "--adapter", adapter, "--compare", model, "--compare-adapter", adapter, .. common]);

        // Assert
        Assert.True(againstBare == 0, bareError);
        Assert.True(againstSame == 0, sameError);
        double bareDelta = JsonDocument.Parse(bareOut).RootElement.GetProperty("compare").GetProperty("delta").GetProperty("loss").GetProperty("mean").GetDouble();
        double sameDelta = JsonDocument.Parse(sameOut).RootElement.GetProperty("compare").GetProperty("delta").GetProperty("loss").GetProperty("mean").GetDouble();
        Assert.NotEqual(0.0, bareDelta);
        Assert.Equal(0.0, sameDelta);
    }

    [Fact]
    public void Eval_CompareFolderMissing_ExitsTwoNamingIt()
    {
        var (exitCode, _, error) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", Fixtures.Path("tiny-llama"), "--compare", "no/such/base", "--json"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("no/such/base", error);
    }

    [Fact]
    public void Eval_CompareAdapterWithoutCompare_ExitsTwo()
    {
        var (exitCode, _, error) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", Fixtures.Path("tiny-llama"), "--compare-adapter", Fixtures.Path("tiny-llama/lora-adapter")]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--compare-adapter needs --compare", error);
    }

    [Fact]
    public void Eval_CompareHumanOutput_PrintsOneTableWithDeltaColumns()
    {
        var (exitCode, output, error) = CliHarness.Run(EvalCommand.Create(),
            ["eval", "--model", Fixtures.Path("tiny-llama"), "--compare", Fixtures.Path("tiny-llama"), "--max-examples", "4",
             "--generation-examples", "1", "--threads", "1"]);

        Assert.True(exitCode == 0, error);
        Assert.Contains("95% CI", output);
        Assert.Contains("Rouge-L", output);
    }
}
