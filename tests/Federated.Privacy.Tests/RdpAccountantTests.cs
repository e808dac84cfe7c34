using Federated.Privacy.Accounting;

namespace Federated.Privacy.Tests;

/// <summary>
/// Published values plus values from tools/privacy/rdp_reference.py (Opacus's rdp.py formulas re-written with
/// mpmath at 50 digits; run once, output recorded here):
///   opacus README  q=0.04 σ=1.5 T=2250   improved ε=7.3291111714373 (α=3.9)   classic ε=8.07384827715674 (α=4.1)
///   TF-Privacy     q=256/60000 σ=1.1 T=14063  improved ε=2.59665552869039 (α=8.1)  classic ε=3.00838104682628 (α=8.8)
///   single-step RDP q=0.01 σ=0.8: α=1.5 → 0.00027331069985828565, α=2.5 → 0.00048945371572656892,
///                                  α=10.9 → 3.4453069812871478, α=32 → 20.246275937044548
/// </summary>
public sealed class RdpAccountantTests
{
    [Fact]
    public void Epsilon_OpacusReadmeSetting_Matches7Point329()
    {
        // Arrange: Opacus README / tests/accountants_test.py: σ = 1.5, q = 0.04, 2250 steps, δ = 1e-5 → ε = 7.32911117143.
        // Act
        var spent = RdpAccountant.Epsilon(0.04, 1.5, 2250, 1e-5);

        // Assert
        Assert.Equal(7.32911117143, spent.Epsilon, 1e-8);
        Assert.Equal(3.9, spent.Order, 1e-12);
    }

    [Fact]
    public void Epsilon_TfPrivacyMnistTutorial_Matches3Point01WithClassicConversion()
    {
        // Arrange: TF-Privacy tutorials README: compute_dp_sgd_privacy --N=60000 --batch_size=256 --noise_multiplier=1.1
        // --epochs=60 --delta=1e-5 → "eps = 3.01" (classic conversion; steps = ceil(60·60000/256) = 14063).
        // Act
        var classic = RdpAccountant.Epsilon(256.0 / 60000, 1.1, 14063, 1e-5, RdpConversion.Classic);
        var improved = RdpAccountant.Epsilon(256.0 / 60000, 1.1, 14063, 1e-5, RdpConversion.Improved);

        // Assert
        Assert.Equal(3.01, Math.Round(classic.Epsilon, 2));
        Assert.Equal(3.00838104682628, classic.Epsilon, 1e-8);
        Assert.Equal(2.59665552869039, improved.Epsilon, 1e-8);
        Assert.Equal(8.1, improved.Order, 1e-12);
    }

    [Fact]
    public void Epsilon_OpacusReadmeClassicConversion_MatchesReference()
    {
        var spent = RdpAccountant.Epsilon(0.04, 1.5, 2250, 1e-5, RdpConversion.Classic);
        Assert.Equal(8.07384827715674, spent.Epsilon, 1e-8);
        Assert.Equal(4.1, spent.Order, 1e-12);
    }

    [Theory]
    [InlineData(1.5, 0.00027331069985828565)]
    [InlineData(2.5, 0.00048945371572656892)]
    [InlineData(10.9, 3.4453069812871478)]
    [InlineData(32.0, 20.246275937044548)]
    public void ComputeRdp_FractionalAndIntegerOrders_MatchHighPrecisionReference(double order, double expected)
    {
        // Act
        double rdp = RdpAccountant.ComputeRdp(0.01, 0.8, 1, [order])[0];

        // Assert: relative 1e-9.
        Assert.True(Math.Abs(rdp - expected) <= 1e-9 * expected, $"RDP({order}) = {rdp:R}, expected {expected:R}");
    }

    [Fact]
    public void ComputeRdp_FullBatch_IsGaussianMechanism()
    {
        // q = 1: the plain Gaussian mechanism, RDP(α) = α / (2σ²) per step; hand-worked α = 4, σ = 2, T = 3 → 3·4/8 = 1.5.
        Assert.Equal(1.5, RdpAccountant.ComputeRdp(1.0, 2.0, 3, [4.0])[0], 12);
    }

    [Fact]
    public void NoiseForTargetEpsilon_OpacusReadmeEpsilon_RecoversSigma1Point5()
    {
        // Act: invert the README setting.
        double sigma = RdpAccountant.NoiseForTargetEpsilon(0.04, 2250, 1e-5, 7.32911117143);

        // Assert: σ is within the tolerance, and its ε meets the target.
        Assert.Equal(1.5, sigma, 1e-3);
        Assert.True(RdpAccountant.Epsilon(0.04, sigma, 2250, 1e-5).Epsilon <= 7.32911117143 + 1e-9);
    }

    [Fact]
    public void NoiseForTargetEpsilon_SmallerEpsilon_NeedsMoreNoise()
    {
        double s8 = RdpAccountant.NoiseForTargetEpsilon(0.05, 60, 1e-5, 8);
        double s1 = RdpAccountant.NoiseForTargetEpsilon(0.05, 60, 1e-5, 1);
        Assert.True(s1 > s8, $"σ(ε=1) = {s1}, σ(ε=8) = {s8}");
    }

    [Fact]
    public void Epsilon_InvalidDelta_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RdpAccountant.Epsilon(0.01, 1, 10, 0));
    }
}
