using Federated.Core.Models;

namespace Federated.Core.Tests.Models;

/// <summary>No held-weights scratch file outlives its process: unlinked while open on Unix, stale ones deleted.</summary>
public sealed class HeldWeightsScratchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "held-weights-scratch-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
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
