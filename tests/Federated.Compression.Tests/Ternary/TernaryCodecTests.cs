using Federated.Compression.Ternary;
using Federated.TestKit;

namespace Federated.Compression.Tests.Ternary;

// Expected payload bytes below were produced once by an independent Python encoder written from the format spec
// (struct + LEB128 + zlib.crc32, positions chosen by sorted((-|x|, i)), exhaustive Rice parameter search), not by this codec.
public class TernaryCodecTests
{
    private static readonly TernaryOptions LeastSquares = new() { ScaleMode = TernaryScaleMode.LeastSquares };

    [Fact]
    public void Encode_HandWorkedRiceCase_MatchesReferenceBytes()
    {
        // Arrange: k = 2 of 10 → positions 1 (+3) and 4 (−5); scale (3+5)/2 = 4; gaps 1, 2; b = 0 → bits 1 0 1 1 0 = 0x0D;
        // Rice 1 byte < bitmap 2 bytes; signs (+, −) → 0x02.
        float[] delta = [0, 3, 0, 0, -5, 0, 0, 0, 1, 0];
        byte[] expected =
        [
            0x54, 0x52, 0x4E, 0x59, 0x01, 0x01, 0x00, 0x0A, 0x02, 0x01, 0x00, 0x00, 0x80, 0x40, 0x01, 0x0D, 0x02, 0xEB,
            0x20, 0x01, 0xD2,
        ];

        // Act
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 0.2 });

        // Assert
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Encode_HandWorkedRiceParameter3_MatchesReferenceBytes()
    {
        // Arrange: k = round(0.075·40) = 3 → positions 5 (−2), 20 (+1.5), 37 (−1); scale 1.5; gaps 5, 14, 16 cost
        // 38/23/17/15/16 bits for b = 0..4 → b = 3, 15 bits = 2 bytes; signs (−, +, −) → 0x05.
        var delta = new float[40];
        delta[5] = -2f; delta[20] = 1.5f; delta[37] = -1f; delta[10] = 0.25f; delta[30] = -0.5f;
        byte[] expected =
        [
            0x54, 0x52, 0x4E, 0x59, 0x01, 0x01, 0x03, 0x28, 0x03, 0x01, 0x00, 0x00, 0xC0, 0x3F, 0x02, 0x9A, 0x07, 0x05,
            0xA6, 0x26, 0x8A, 0x30,
        ];

        // Act
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 0.075 });

        // Assert
        Assert.Equal(expected, payload);
        var header = TernaryCodec.ReadHeader(payload);
        Assert.Equal(TernaryPositionCoding.Rice, header.Coding);
        Assert.Equal(3, header.RiceParameter);
    }

    [Fact]
    public void Encode_TwoByteVarints_MatchesReferenceBytes()
    {
        // Arrange: n = 300 → varint AC 02; k = 3 → positions 3 (+1), 130 (−2), 299 (+3); scale 2; gaps 3, 126, 168 → b = 6.
        var delta = new float[300];
        delta[3] = 1f; delta[130] = -2f; delta[299] = 3f; delta[200] = 0.5f;
        byte[] expected = [0x54, 0x52, 0x4E, 0x59, 0x01, 0x01, 0x06, 0xAC, 0x02, 0x03, 0x01, 0x00, 0x00, 0x00, 0x40, 0x03, 0x86, 0xFC, 0xA1, 0x02, 0x94, 0x0A, 0x1B, 0xAF];

        // Act
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 0.01 });

        // Assert
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Encode_DenseUpdate_ChoosesBitmapOnTie()
    {
        // Arrange: all 8 kept; Rice b = 0 and the bitmap both take 1 byte → bitmap 0xFF; scale 36/8 = 4.5; signs 0xAA.
        float[] delta = [1, -2, 3, -4, 5, -6, 7, -8];
        byte[] expected =
        [
            0x54, 0x52, 0x4E, 0x59, 0x01, 0x02, 0x00, 0x08, 0x08, 0x01, 0x00, 0x00, 0x90, 0x40, 0x01, 0xFF, 0xAA, 0xDF,
            0x97, 0x23, 0xAA,
        ];

        // Act
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 1.0 });

        // Assert
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Encode_PerTensorScales_MatchesReferenceBytes()
    {
        // Arrange: tensors [2, 4]; k = 3 → positions 1 (−1), 3 (+2), 5 (−3); scales 1 and (2+3)/2 = 2.5.
        float[] delta = [0.5f, -1, 0, 2, 0, -3];
        byte[] expected =
        [
            0x54, 0x52, 0x4E, 0x59, 0x01, 0x02, 0x00, 0x06, 0x03, 0x02, 0x02, 0x04, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00,
            0x20, 0x40, 0x01, 0x2A, 0x05, 0xC3, 0xDB, 0x41, 0x5D,
        ];

        // Act
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 0.5, TensorLengths = [2, 4] });

        // Assert
        Assert.Equal(expected, payload);
        Assert.Equal([0f, -1f, 0f, 2.5f, 0f, -2.5f], TernaryCodec.Decode(payload));
    }

    [Fact]
    public void Decode_HandWorkedCase_ReturnsScaleTimesSign()
    {
        // Arrange
        float[] delta = [0, 3, 0, 0, -5, 0, 0, 0, 1, 0];
        byte[] payload = TernaryCodec.Encode(delta, LeastSquares with { Density = 0.2 });

        // Act
        float[] decoded = TernaryCodec.Decode(payload);

        // Assert
        Assert.Equal([0f, 4f, 0f, 0f, -4f, 0f, 0f, 0f, 0f, 0f], decoded);
    }

    [Fact]
    public void Encode_SigmaMultiple_ScaleIsAlphaTimesUnbiasedStd()
    {
        // Arrange: σ([1,2,3,4]) with n−1 = √(5/3) = 1.2909944; α = 2 → 2.5819889.
        float[] delta = [1, 2, 3, 4];

        // Act
        var header = TernaryCodec.ReadHeader(TernaryCodec.Encode(delta, new TernaryOptions { Density = 0.5, Alpha = 2 }));

        // Assert
        Assert.Equal(2.5819889f, header.Scales[0], 6);
        Assert.Equal(2, header.KeptCount);
    }

    [Fact]
    public void DecodeAccumulate_TwoPayloads_AddsWeightedValues()
    {
        // Arrange
        byte[] a = TernaryCodec.Encode([0, 3, 0, -5], LeastSquares with { Density = 0.5 }); // scale 4: [0, 4, 0, −4]
        byte[] b = TernaryCodec.Encode([2, 0, 0, 0], LeastSquares with { Density = 0.25 }); // scale 2: [2, 0, 0, 0]
        var sum = new float[4];

        // Act
        TernaryCodec.DecodeAccumulate(a, 0.5f, sum);
        TernaryCodec.DecodeAccumulate(b, 2f, sum);

        // Assert
        Assert.Equal([4f, 2f, 0f, -2f], sum);
    }

    [Theory]
    [InlineData(0.01, 2.891948605)]
    [InlineData(0.05, 2.337802792)]
    [InlineData(0.10, 2.062712808)]
    [InlineData(0.20, 1.754983319)]
    [InlineData(0.30, 1.554391835)]
    [InlineData(1.00, 0.797884561)]
    public void DefaultAlpha_Density_MatchesGaussianTailMean(double density, double expected)
    {
        // Expected: 2φ(z)/d with z = Φ⁻¹(1 − d/2), computed once with Python's statistics.NormalDist
        // (rounded: 2.89, 2.34, 2.06, 1.75, 1.55).
        double alpha = TernaryOptions.DefaultAlpha(density);

        Assert.Equal(expected, alpha, 1e-7);
    }

    [Theory]
    [InlineData(0.01, 6)]
    [InlineData(0.05, 4)]
    [InlineData(0.10, 3)]
    [InlineData(0.20, 2)]
    public void FormulaParameter_ResearchNoteTable_Matches(double density, int expected)
    {
        Assert.Equal(expected, RiceCoding.FormulaParameter(density));
    }

    [Theory]
    [InlineData(0, 0.05, 0)]
    [InlineData(10, 0.01, 1)]
    [InlineData(10, 0.25, 3)]
    [InlineData(1000, 0.05, 50)]
    [InlineData(7, 1.0, 7)]
    public void KeptCount_Density_RoundsAndClamps(int n, double density, int expected)
    {
        Assert.Equal(expected, TernaryCodec.KeptCount(n, density));
    }

    [Fact]
    public void Select_TiedMagnitudes_KeepsLowerIndices()
    {
        // Arrange: five entries of magnitude 1, keep 3 → indices 0, 2, 3 after the larger 5 at index 1.
        float[] values = [1, 5, -1, 1, -1, 1, 0];
        var positions = new int[4];

        // Act
        int count = TopKSelector.Select(values, 4, positions);

        // Assert
        Assert.Equal(4, count);
        Assert.Equal([0, 1, 2, 3], positions);
    }

    [Fact]
    public void Select_MoreThanNonZero_NeverKeepsZeros()
    {
        // Arrange
        float[] values = [0, -0f, 2, 0, -3];
        var positions = new int[5];

        // Act
        int count = TopKSelector.Select(values, 5, positions);

        // Assert
        Assert.Equal(2, count);
        Assert.Equal([2, 4], positions.AsSpan(0, count).ToArray());
    }

    [Fact]
    public void Encode_NonFiniteValue_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => TernaryCodec.Encode([1, float.NaN, 2], TernaryOptions.Default));
        Assert.Contains("element 1", ex.Message);
    }

    [Fact]
    public void Encode_TensorLengthsWrongSum_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => TernaryCodec.Encode([1, 2, 3], TernaryOptions.Default with { TensorLengths = [1, 1] }));
        Assert.Contains("TensorLengths", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Validate_InvalidDensity_Throws(double density)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TernaryOptions { Density = density }.Validate());
        Assert.Equal("Density", ex.ParamName);
    }

    [Fact]
    public void Validate_Default_DoesNotThrow()
    {
        TernaryOptions.Default.Validate();
        Assert.Equal(0.05, TernaryOptions.Default.Density);
    }

    [Fact]
    public void Compute_CheckString_MatchesPublishedCrc32()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [Fact]
    public void Encode_EmptyUpdate_RoundTripsToEmpty()
    {
        byte[] expected = [0x54, 0x52, 0x4E, 0x59, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0xAC, 0xCD, 0xFD];
        byte[] payload = TernaryCodec.Encode([], TernaryOptions.Default);
        Assert.Equal(expected, payload);
        Assert.Empty(TernaryCodec.Decode(payload));
    }

    [Fact]
    public void EncodeWithFeedback_ThreeRounds_DecodedPlusResidualEqualsSumOfDeltas()
    {
        // Arrange: Σ_t D(payload_t) + e_T = Σ_t Δ_t (the residual telescopes).
        var rng = new Random(7);
        const int n = 500;
        var residual = new float[n];
        var sentSum = new float[n];
        var deltaSum = new float[n];
        var options = new TernaryOptions { Density = 0.1, ScaleMode = TernaryScaleMode.LeastSquares };

        // Act
        for (int round = 0; round < 3; round++)
        {
            var delta = new float[n];
            for (int i = 0; i < n; i++) { delta[i] = (float)(rng.NextDouble() * 2 - 1); deltaSum[i] += delta[i]; }
            byte[] payload = ErrorFeedback.EncodeWithFeedback(delta, residual, options);
            TernaryCodec.DecodeAccumulate(payload, 1f, sentSum);
        }
        for (int i = 0; i < n; i++) sentSum[i] += residual[i];

        // Assert
        TensorAssert.Close(deltaSum, sentSum, 1e-5, 1e-5, "sent + residual");
    }
}
