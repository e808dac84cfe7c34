using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.TestKit;

namespace Federated.Core.Tests.ZerothOrder;

/// <summary>
/// The one FedKSeed sync against the update rule written out element by element: for each seed index in ascending order,
/// w ← w + (−η·ΔH[s])·z(pool[s], t, e) in float32 over every element e of every trainable tensor t, with z read from
/// <see cref="SeedNormal.At"/> (the definition of the normals, not the bulk kernels the sync runs on).
/// </summary>
public sealed class FedKSeedSyncTests
{
    private const float LearningRate = 0.05f;
    private const int SeedCount = 8;

    [Theory]
    [InlineData("norm")]
    [InlineData("self_attn")]
    [InlineData(null)]
    public void Apply_UnorderedDelta_EqualsElementwiseAscendingReplay(string? pattern)
    {
        // Arrange: a ΔH out of index order, with a zero entry (no move) and a negative one.
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var trainable = TrainableSet.Create(lm.Parameters, pattern);
        var pool = SeedPool.Derive(20261208UL, SeedCount);
        uint[] indices = [5, 1, 7, 3];
        float[] values = [0.25f, -1.5f, 0f, 0.75f];
        float[] original = lm.Weights.ToArray();
        float[] expected = lm.Weights.ToArray();
        foreach (int k in Enumerable.Range(0, indices.Length).OrderBy(k => indices[k]))
        {
            float scale = -LearningRate * values[k];
            if (scale == 0) continue;
            foreach (int t in trainable.Indices)
            {
                var p = lm.Parameters[t];
                for (int e = 0; e < p.Length; e++)
                    expected[p.Offset + e] = expected[p.Offset + e] + scale * SeedNormal.At(pool[indices[k]], t, e);
            }
        }
        var sync = new FedKSeedSync(lm, trainable, pool, LearningRate);

        // Act
        sync.Apply(indices, values);

        // Assert: the same bits, element by element (frozen tensors untouched).
        float[] actual = lm.Weights.ToArray();
        Assert.Equal(expected.Length, actual.Length);
        int mismatches = Enumerable.Range(0, actual.Length).Count(i => BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]));
        Assert.Equal(0, mismatches);
        Assert.NotEqual(original, actual);   // the sync moved the model at all
    }

    [Fact]
    public void Apply_IndexNotBelowK_ThrowsNamingIndexAndLeavesModel()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var sync = new FedKSeedSync(lm, TrainableSet.All(lm.Parameters), SeedPool.Derive(1UL, SeedCount), LearningRate);
        float[] before = lm.Weights.ToArray();

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => sync.Apply([0u, SeedCount], [1f, 1f]));

        // Assert
        Assert.Contains($"seed index {SeedCount}", ex.Message);
        Assert.Equal(before, lm.Weights.ToArray());
    }

    [Fact]
    public void Apply_LengthsDiffer_Throws()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var sync = new FedKSeedSync(lm, TrainableSet.All(lm.Parameters), SeedPool.Derive(1UL, SeedCount), LearningRate);

        // Act + Assert
        Assert.Throws<ArgumentException>(() => sync.Apply([0u, 1u], [1f]));
    }
}
