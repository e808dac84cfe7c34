using Federated.Aggregation.FedKSeed;

namespace Federated.Aggregation.Tests.FedKSeed;

public class FedKSeedProTests
{
    [Fact]
    public void Probabilities_HandWorkedExample_MatchesSoftmaxOfNormalisedMeans()
    {
        // Arrange: K = 3, history starts [0]. Seed 0 sees 2, −4 → ψ₀ = (0+2+4)/3 = 2; seed 1 sees 1 → ψ₁ = 1/2;
        // seed 2 nothing → ψ₂ = 0. ψ̃ = (2, 0.5, 0)/(2 + 1e−10) ≈ (1, 0.25, 0);
        // p = (e¹, e^0.25, e⁰)/(2.718281828 + 1.284025417 + 1 = 5.002307245) = (0.543405612, 0.256686636, 0.199907753)
        // (worked with a calculator, python3 math.exp).
        var pro = new FedKSeedPro(3);
        pro.Observe(0, 2f);
        pro.Observe(0, -4f);
        pro.Observe(1, 1f);
        var psi = new double[3];
        var p = new double[3];

        // Act
        pro.Importance(psi);
        pro.Probabilities(p);

        // Assert
        Assert.Equal([2.0, 0.5, 0.0], psi);
        Assert.Equal(0.543405612, p[0], 8);
        Assert.Equal(0.256686636, p[1], 8);
        Assert.Equal(0.199907753, p[2], 8);
    }

    [Fact]
    public void Observe_BeyondClip_CountsClipMagnitude()
    {
        // Arrange
        var pro = new FedKSeedPro(2, clip: 1000);
        var psi = new double[2];

        // Act
        pro.Observe(1, -5000f);
        pro.Importance(psi);

        // Assert: (0 + 1000)/2
        Assert.Equal(500.0, psi[1]);
    }

    [Fact]
    public void Probabilities_AllEqual_Uniform()
    {
        var p = new double[4];
        FedKSeedPro.Probabilities([0.3, 0.3, 0.3, 0.3], p);
        Assert.All(p, v => Assert.Equal(0.25, v, 12));
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.19, 0)]
    [InlineData(0.21, 1)]
    [InlineData(0.99, 2)]
    public void Sample_Uniform_InverseCdf(double u, int expected)
    {
        Assert.Equal(expected, FedKSeedPro.Sample([0.2, 0.5, 0.3], u));
    }

    [Fact]
    public void Restore_Snapshot_SameImportance()
    {
        // Arrange
        var pro = new FedKSeedPro(3);
        pro.Observe([new(0, 1f), new(2, 3f), new(2, -1f)]);
        var (sums, counts) = pro.Snapshot();
        var a = new double[3];
        var b = new double[3];

        // Act
        pro.Importance(a);
        FedKSeedPro.Restore(sums, counts).Importance(b);

        // Assert
        Assert.Equal(a, b);
        Assert.Throws<InvalidDataException>(() => FedKSeedPro.Restore([1.0], [0L]));
    }
}
