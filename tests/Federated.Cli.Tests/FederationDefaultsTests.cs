using System.CommandLine;
using Federated.Cli.Commands;
using Federated.Cli.Tests.Commands;
using Federated.Server.Domain;
using Federated.Server.Host;
using Federated.Server.Strategies;
using Federated.Simulation;
using Federated.Simulation.ComPeft;
using Federated.Simulation.FedKSeed;
using Federated.TestKit;

namespace Federated.Cli.Tests;

/// <summary>
/// One set of federation flags and defaults for every verb: `simulate`, `audit` and `serve` parse the same command line
/// (through each verb's real options) to the same settings, and what each builds from them (the simulator's options,
/// the server's round parameters, which are what `join` clients receive) carries the same values.
/// </summary>
[Collection("Console")]
public sealed class FederationDefaultsTests
{
    private static readonly string TinyModel = Fixtures.Path("tiny-llama");   // no federation.json: the code defaults
    private static readonly string[] NoTargets = [];

    [Theory]
    [InlineData("fedkseed")]
    [InlineData("compeft")]
    public void Verbs_NoFederationFlags_AgreeOnEveryMethodSetting(string method)
    {
        // Act: each verb's own parse of the same command line (only what it requires besides).
        var simulate = Simulation(SimulateCommand.Create(), TinyModel, "--method", method);
        var audit = Simulation(AuditCommand.Create(), TinyModel, "--method", method);
        var served = Served(TinyModel, "--method", method);

        // Assert
        if (method == "fedkseed")
        {
            var (s, a) = ((FedKSeedSimulationOptions)simulate, (FedKSeedSimulationOptions)audit);
            Assert.Equal(s.Method, a.Method);
            var wire = (FedKSeedRoundParameters)new FedKSeedStrategy(served.FedKSeed).ConfigureRound(1, 0);
            Assert.Equal((s.Seeds, s.LocalSteps, s.Epsilon, s.LearningRate, 1, s.Trainable, s.Seed),
                (wire.SeedCount, wire.LocalSteps, wire.Epsilon, wire.LearningRate, wire.BatchSize, wire.Trainable, wire.SeedPoolMasterSeed));
            Assert.Equal(s.Pro, served.FedKSeed.Pro);
        }
        else
        {
            var (s, a) = ((ComPeftSimulationOptions)simulate, (ComPeftSimulationOptions)audit);
            Assert.Equal(s.Method with { TargetModules = NoTargets }, a.Method with { TargetModules = NoTargets });
            Assert.Equal(s.TargetModules, a.TargetModules);
            served.ComPeft.UpdateElementCount = 1;
            var wire = (ComPeftRoundParameters)new ComPeftStrategy(served.ComPeft).ConfigureRound(1, 0);
            Assert.Equal((s.LoraRank, s.LoraAlpha, string.Join(",", s.TargetModules), (float)s.UploadDensity, (float)(s.ScaleFactor ?? 0), s.LearningRate),
                (wire.Rank, wire.Alpha, string.Join(",", wire.TargetModules), wire.Density, wire.ScaleFactor, wire.LearningRate));
            Assert.Equal((s.LocalSteps, s.BatchSize, s.FreezeA, s.Seed, s.LeastSquaresScale, s.ErrorFeedback),
                (wire.LocalSteps, wire.BatchSize, wire.FreezeA, wire.LoraASeed, wire.LeastSquaresScale, wire.ErrorFeedback));
            Assert.Equal((s.Aggregation, s.TiesLambda, (float)s.DownlinkDensity),
                (served.ComPeft.Aggregation, served.ComPeft.Ties.Lambda, served.ComPeft.DownlinkDensity));
        }
        // The shared settings: simulate and serve agree; audit keeps its small canary population but the same seed.
        Assert.Equal((simulate.Rounds, simulate.ClientsPerRound, simulate.Seed), (served.Coordinator.Rounds, served.Coordinator.ClientsPerRound, served.Coordinator.SelectionSeed));
        Assert.Equal(simulate.Seed, audit.Seed);
        Assert.Equal(Method(method), served.Method);
        // A joining client encodes examples at the simulator's length.
        Assert.Equal(Federated.Client.FedKSeed.FedKSeedLocalTrainer.DefaultMaxLength, simulate.MaxLength);
    }

    [Fact]
    public void Verbs_SameFederationFlags_AgreeWithTheFlags()
    {
        // Arrange: the old spellings (--seed-count, --learning-rate) are aliases of --seeds and --lr.
        string[] flags = ["--seed-count", "64", "--learning-rate", "0.125", "--local-steps", "3", "--epsilon", "0.25", "--trainable", "norm",
            "--rounds", "7", "--clients-per-round", "3", "--seed", "9"];

        // Act
        var simulate = (FedKSeedSimulationOptions)Simulation(SimulateCommand.Create(), TinyModel, flags);
        var audit = (FedKSeedSimulationOptions)Simulation(AuditCommand.Create(), TinyModel, ["--method", "fedkseed", .. flags]);
        var served = Served(TinyModel, flags);

        // Assert
        Assert.Equal((64, 3, 0.25f, 0.125f, "norm", 7, 3, 9ul),
            (simulate.Seeds, simulate.LocalSteps, simulate.Epsilon, simulate.LearningRate, simulate.Trainable, simulate.Rounds, simulate.ClientsPerRound, simulate.Seed));
        Assert.Equal(simulate.Method, audit.Method);
        Assert.Equal((simulate.Rounds, simulate.ClientsPerRound, simulate.Seed), (audit.Rounds, audit.ClientsPerRound, audit.Seed));
        Assert.Equal((64, 3, 0.25f, 0.125f, "norm", 7, 3, 9ul),
            (served.FedKSeed.SeedCount, served.FedKSeed.LocalSteps, served.FedKSeed.Epsilon, served.FedKSeed.LearningRate, served.FedKSeed.Trainable,
                served.Coordinator.Rounds, served.Coordinator.ClientsPerRound, served.FedKSeed.SeedPoolMasterSeed));
    }

    [Fact]
    public void Verbs_ModelWithFederationJson_UseItUnlessAFlagOverrides()
    {
        // Arrange
        string model = ModelWith("""{ "rounds": 3, "fedkseed": { "lr": 0.5, "trainable": "norm" }, "compeft": { "aggregate": "mean" } }""");

        // Act
        var simulate = (FedKSeedSimulationOptions)Simulation(SimulateCommand.Create(), model, "--lr", "0.25");
        var audit = (FedKSeedSimulationOptions)Simulation(AuditCommand.Create(), model, "--method", "fedkseed");
        var served = Served(model);
        var settings = Settings(SimulateCommand.Create(), model, "--lr", "0.25");
        var compeft = (ComPeftSimulationOptions)Simulation(SimulateCommand.Create(), model, "--method", "compeft");

        // Assert
        Assert.Equal((0.25f, "norm", 3), (simulate.LearningRate, simulate.Trainable, simulate.Rounds));
        Assert.Equal((0.5f, "norm"), (audit.LearningRate, audit.Trainable));
        Assert.Equal(AuditCommand.Population.Rounds, audit.Rounds);   // the audit's own population is not the model's
        Assert.Equal((0.5f, "norm", 3), (served.FedKSeed.LearningRate, served.FedKSeed.Trainable, served.Coordinator.Rounds));
        Assert.Equal(ComPeftAggregation.Mean, compeft.Aggregation);
        Assert.Equal(Path.Combine(model, ModelRecommendations.FileName) + ": rounds 3, trainable norm",
            settings.RecommendationsLine!["settings from ".Length..]);
    }

    [Fact]
    public void Simulate_FederationJsonWithUnknownKey_ExitsTwoNamingTheFile()
    {
        // Arrange
        string model = ModelWith("""{ "fedkseed": { "learning_rate": 0.5 } }""");

        // Act
        var (exitCode, _, error) = CliHarness.Run(SimulateCommand.Create(), "simulate", "--model", model, "--threads", "1");

        // Assert
        Assert.Equal(CliRunner.BadInput, exitCode);
        Assert.Contains(Path.Combine(model, ModelRecommendations.FileName), error);
        Assert.Contains("learning_rate", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void BundledModel_FederationJson_IsReadWithoutError()
    {
        // Act
        var fedkseed = Settings(SimulateCommand.Create(), Path.Combine(Fixtures.RepoRoot, BuiltinModel.RelativePath));
        var compeft = Settings(SimulateCommand.Create(), Path.Combine(Fixtures.RepoRoot, BuiltinModel.RelativePath), "--method", "compeft");

        // Assert: it recommends something for each method.
        Assert.NotEmpty(fedkseed.Recommended);
        Assert.NotEmpty(compeft.Recommended);
    }

    private static RunSettings Settings(Command verb, string model, params string[] args)
    {
        var parse = verb.Parse(["--model", model, .. args]);
        Assert.Empty(parse.Errors);
        return FederationOptions.Of(verb).Read(parse, model);
    }

    private static SimulationOptions Simulation(Command verb, string model, params string[] args) =>
        SimulateCommand.BuildOptions(Settings(verb, model, args), model);

    private static FederationServerOptions Served(string model, params string[] args)
    {
        var verb = ServeCommand.Create();
        var settings = Settings(verb, model, ["--data-dir", Path.GetTempPath(), .. args]);
        var options = new FederationServerOptions();
        ServeCommand.Configure(options, settings, updateElements: 1);
        return options;
    }

    private static TrainingMethodKind Method(string name) => name == "compeft" ? TrainingMethodKind.ComPeft : TrainingMethodKind.FedKSeed;

    /// <summary>A copy of the tiny-llama fixture with <paramref name="federationJson"/> beside its config.json.</summary>
    private static string ModelWith(string federationJson)
    {
        string dir = Directory.CreateTempSubdirectory("fed-model-").FullName;
        foreach (var file in Directory.GetFiles(TinyModel)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(dir, ModelRecommendations.FileName), federationJson);
        return dir;
    }
}
