using Federated.Core.Diagnostics;
using Federated.Core.Models;

namespace Federated.Core.Tests.Diagnostics;

public sealed class ReplayBenchTests
{
    [Fact]
    public void TouchedSeeds_ManyStepsOnFewSeeds_EverySeedOnceAscending()
    {
        // 1,000 uniform draws over K = 8: P(some seed missed) ≤ 8·(7/8)^1000 ≈ 1e-57.
        var deltas = ReplayBench.TouchedSeeds(8, 1000, 7);

        Assert.Equal(Enumerable.Range(0, 8), deltas.Select(d => d.SeedIndex));
        Assert.All(deltas, d => Assert.NotEqual(0f, d.Value));
    }

    [Fact]
    public void TouchedSeeds_FewStepsOnManySeeds_NearTheExpectedDistinctCount()
    {
        // E[distinct] = K(1 − (1 − 1/K)^n) = 4096·(1 − e^(−2000/4096)) ≈ 1,584; sd ≈ 15 (occupancy variance).
        var deltas = ReplayBench.TouchedSeeds(4096, 2000, 11);

        Assert.InRange(deltas.Count, 1584 - 120, 1584 + 120);
        Assert.Equal(deltas.Count, deltas.Select(d => d.SeedIndex).Distinct().Count());
    }

    [Fact]
    public void Run_TinyModel_SeedsReplayedGrowThenSaturateAtK()
    {
        // Arrange: K = 64, 20 steps per round.
        var config = new ModelConfig
        {
            Architecture = ModelArchitecture.Llama, VocabSize = 32, Dim = 16, LayerCount = 1, HeadCount = 2, KvHeadCount = 1,
            HeadDim = 8, FfnDim = 24, MaxPositions = 16, NormEps = 1e-5f, TieWordEmbeddings = true,
        };

        // Act
        var rows = ReplayBench.Run(new CausalLm(config), 64, 20, [1, 100]);

        // Assert: one round touches at most 20 seeds; 100 rounds (2,000 draws) touch all 64.
        Assert.InRange(rows[0].SeedsReplayed, 1, 20);
        Assert.Equal(64, rows[1].SeedsReplayed);
        Assert.Equal(2000, rows[1].StepsMissed);
    }
}
