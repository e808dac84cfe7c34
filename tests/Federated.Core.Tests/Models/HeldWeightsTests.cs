using Federated.Core.Models;

namespace Federated.Core.Tests.Models;

public sealed class HeldWeightsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "held-weights-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Values whose bits a lossy path would change: NaN payloads, −0, subnormals, extremes, plus random ones.</summary>
    private static float[] Awkward(int count)
    {
        var random = new Random(3);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        values[0] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // NaN with a payload
        values[1] = -0f;
        values[2] = float.Epsilon;
        values[3] = float.MaxValue;
        values[4] = float.NegativeInfinity;
        return values;
    }

    [Fact]
    public void CopyTo_AfterCreateAndStore_GivesBackTheExactBits()
    {
        // Arrange
        var first = Awkward(10_001);
        var second = first.Select(v => v * 0.5f + 1f).ToArray();
        using var held = new HeldWeights(first, _dir);
        var restored = new float[first.Length];

        // Act / Assert: the creation copy, then a replacement
        held.CopyTo(restored);
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), restored.Select(BitConverter.SingleToInt32Bits));
        held.Store(second);
        held.CopyTo(restored);
        Assert.Equal(second.Select(BitConverter.SingleToInt32Bits), restored.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void StoreAndCopyTo_WrongLength_Throw()
    {
        using var held = new HeldWeights(new float[8], _dir);

        Assert.Throws<ArgumentException>(() => held.Store(new float[7]));
        Assert.Throws<ArgumentException>(() => held.CopyTo(new float[9]));
    }

    [Fact]
    public void Dispose_ScratchFile_IsDeleted()
    {
        // Arrange
        var held = new HeldWeights(new float[1024], _dir);   // on Unix already unlinked (HeldWeightsScratchTests)

        // Act
        held.Dispose();

        // Assert
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
