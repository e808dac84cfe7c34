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
        var held = new HeldWeights(new float[1024], _dir);   // on Unix already unlinked (below)

        // Act
        held.Dispose();

        // Assert
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Constructor_OnUnix_LeavesNoNamedFileYetRestores()
    {
        if (OperatingSystem.IsWindows()) return;   // Windows keeps the name until the delete-on-close handle closes

        // Arrange
        float[] weights = [1f, -2f, 3.5f];
        var restored = new float[3];

        // Act: a process killed now (SIGKILL) would leave nothing behind in the directory.
        using var held = new HeldWeights(weights, _dir);
        var files = Directory.GetFiles(_dir);
        held.CopyTo(restored);

        // Assert
        Assert.Empty(files);
        Assert.Equal(weights, restored);
    }

    [Fact]
    public void Constructor_StaleScratchFileInDirectory_DeletesIt()
    {
        // Arrange: what a process killed by an older build left behind, and an unrelated file.
        Directory.CreateDirectory(_dir);
        string stale = Path.Combine(_dir, "held-weights-4242-0123456789abcdef0123456789abcdef.bin");
        string other = Path.Combine(_dir, "notes.bin");
        File.WriteAllBytes(stale, new byte[64]);
        File.WriteAllBytes(other, [1]);

        // Act
        using var held = new HeldWeights(new float[4], _dir);

        // Assert
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(other));
    }
}
