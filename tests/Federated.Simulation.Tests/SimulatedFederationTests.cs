using Federated.Server.Coordination;
using Federated.Server.Storage;
using Federated.Simulation.FedKSeed;
using Federated.Simulation.Federation;

namespace Federated.Simulation.Tests;

/// <summary>The simulated federation is the server's coordinator: its store records the rounds, the selected clients
/// and the versions as `federated serve` does, and the evaluation cadence is every EvalEvery rounds and the last.</summary>
public sealed class SimulatedFederationTests
{
    [Theory]
    // Hand-worked: rounds 1..7, every 3rd → 3, 6, and 7 (the last).
    [InlineData(3, 7, new long[] { 3, 6, 7 })]
    // Every round.
    [InlineData(1, 3, new long[] { 1, 2, 3 })]
    // EvalEvery beyond the run: only the last round.
    [InlineData(10, 4, new long[] { 4 })]
    public void EvaluatesAfter_EvalEveryAndRounds_EvaluatesMultiplesAndLastRound(int evalEvery, int rounds, long[] expected)
    {
        // Arrange
        var options = new FedKSeedSimulationOptions { ModelDirectory = "unused", EvalEvery = evalEvery, Rounds = rounds };

        // Act
        var evaluated = Enumerable.Range(1, rounds).Select(r => (long)r)
            .Where(r => SimulatedFederation<Server.Domain.RoundParameters>.EvaluatesAfter(r, options)).ToArray();

        // Assert
        Assert.Equal(expected, evaluated);
    }

    [Fact]
    public void RunRound_FourClientsTwoPerRound_StoreHoldsTheCoordinatorsSelectionAndOneVersionPerRound()
    {
        // Arrange: 4 named clients, 2 per round, 3 rounds; the simulated server's store kept in a file.
        string data = TinyTask.WriteJsonl();
        string dir = Path.Combine(Path.GetTempPath(), "federated-simfed-" + Guid.NewGuid().ToString("N"));
        string[] names = ["alpha", "beta", "gamma", "delta"];
        const int rounds = 3;

        // Act
        using (var simulation = new FedKSeedSimulation(new FedKSeedSimulationOptions
        {
            ModelDirectory = TinyTask.ModelDirectory, Data = data, EvalData = data, Clients = names.Length, ClientsPerRound = 2,
            Rounds = rounds, Seeds = 8, LocalSteps = 2, Partition = "iid", EvalEvery = 1000, EvalExamples = 1, GenerationExamples = 0,
            ClientNames = names, StatePath = Path.Combine(dir, "federation.db"),
        }))
        {
            for (int round = 1; round <= rounds; round++) Assert.Equal(2, simulation.RunRound(round).Clients);
        }

        // Assert: each round's updates came from 2 distinct clients enrolled under the given names, and each round made a version.
        using var store = new SqliteFederationStore(Path.Combine(dir, "federation.db"));
        var ids = names.Select(FederationCoordinator.ClientIdForName).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(names.Length, store.CountClients());
        Assert.Equal(rounds, store.ListVersions().Count);
        for (int round = 1; round <= rounds; round++)
        {
            var pushed = store.ListUpdates(round).Select(u => u.ClientId).ToArray();
            Assert.Equal(2, pushed.Distinct().Count());
            Assert.All(pushed, id => Assert.Contains(id, ids));
        }
        Assert.Equal(rounds, store.CountAggregatedRounds());
    }
}
