using Federated.Simulation.FedKSeed;

namespace Federated.Simulation.Tests;

/// <summary>The shared round loop's evaluation cadence: the loss is evaluated every EvalEvery rounds and after the last.</summary>
public sealed class SimulatedRoundsTests
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
            .Where(r => SimulatedRounds<Server.Domain.RoundParameters>.EvaluatesAfter(r, options)).ToArray();

        // Assert
        Assert.Equal(expected, evaluated);
    }
}
