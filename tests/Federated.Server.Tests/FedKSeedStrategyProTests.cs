using Federated.Aggregation.FedKSeed;
using Federated.Core.Seeds;
using Federated.Server.Domain;
using Federated.Server.Strategies;

namespace Federated.Server.Tests;

public sealed class FedKSeedStrategyProTests
{
    private static FedKSeedStrategy NewStrategy(bool pro) =>
        new(new FedKSeedStrategyOptions { SeedCount = 4, LocalSteps = 4, LearningRate = 1e-3f, Pro = pro });

    // One aggregated version: a client used seed 1 with g = −1 and seed 3 with g = 2.
    private static ModelVersionRecord Version1() => new(1, 1,
        FedKSeedRoundCodec.Encode([new ClientScalars(5, [new SeedScalar(1, -1f), new SeedScalar(3, 2f)])]), DateTimeOffset.UnixEpoch);

    [Fact]
    public void ConfigureRound_ProAfterOneRound_SoftmaxOfNormalisedMeanMagnitudes()
    {
        // Arrange: hand-worked. History per seed starts with one 0 entry, so ψ = mean(|g|) = [0, 1/2, 0, 2/2] = [0, .5, 0, 1];
        // ψ̃ = (ψ − 0)/(1 − 0 + 1e−10) ≈ ψ; p ∝ [1, e^0.5, 1, e], Σ = 2 + 1.6487213 + 2.7182818 = 6.3670031.
        var strategy = NewStrategy(pro: true);
        strategy.Apply(Version1());

        // Act
        var p = ((FedKSeedRoundParameters)strategy.ConfigureRound(2, 1)).SeedProbabilities;

        // Assert
        double[] expected = [1 / 6.3670031, 1.6487213 / 6.3670031, 1 / 6.3670031, 2.7182818 / 6.3670031];
        Assert.Equal(4, p.Count);
        for (int s = 0; s < 4; s++) Assert.Equal(expected[s], p[s], 1e-6);
    }

    [Fact]
    public void ConfigureRound_ProRestoredFromHistory_SameProbabilitiesAsLive()
    {
        // Arrange
        var live = NewStrategy(pro: true);
        live.Apply(Version1());
        var restarted = NewStrategy(pro: true);

        // Act: a restarted server rebuilds Pro's history from the stored versions.
        restarted.Restore([Version1()]);

        // Assert
        Assert.Equal(((FedKSeedRoundParameters)live.ConfigureRound(2, 1)).SeedProbabilities,
            ((FedKSeedRoundParameters)restarted.ConfigureRound(2, 1)).SeedProbabilities);
    }

    [Fact]
    public void ConfigureRound_WithoutPro_NoProbabilities()
    {
        // Arrange
        var strategy = NewStrategy(pro: false);
        strategy.Apply(Version1());

        // Act
        var p = ((FedKSeedRoundParameters)strategy.ConfigureRound(2, 1)).SeedProbabilities;

        // Assert: uniform sampling is signalled by an empty list (no K floats on the wire).
        Assert.Empty(p);
    }
}
