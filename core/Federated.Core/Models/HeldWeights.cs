using System.Runtime.InteropServices;

namespace Federated.Core.Models;

/// <summary>
/// A float32 copy of a model's weights set aside to return to — e.g. the global version a simulated client starts
/// from and the model goes back to after its local steps — kept in a scratch file of 4 bytes per weight, not in process
/// memory. The file is written and read with positional I/O (never memory-mapped), so the copy lives in the OS page
/// cache, which the kernel can drop to disk under memory pressure, and the process holds one model. A restore is one
/// sequential read; it gives back exactly the bits stored.
/// <para>No file outlives its process, even one killed with SIGKILL: on Unix the file is unlinked as soon as it is
/// open (it lives on through the handle, and the kernel frees it when the process ends); on Windows it is opened
/// delete-on-close, which the OS honours at process exit. Files left by older builds are removed when the next
/// HeldWeights is made in the same directory (<see cref="DeleteStale"/>).</para>
/// </summary>
public sealed class HeldWeights : IDisposable
{
    /// <summary>Weights per I/O call (1 GiB), so that models over 2 GiB never form a byte span longer than int.MaxValue.</summary>
    private const int Chunk = 1 << 28;

    private readonly FileStream _file;

    /// <summary>Writes <paramref name="weights"/> to a new scratch file under <paramref name="directory"/>.</summary>
    public HeldWeights(ReadOnlySpan<float> weights, string directory)
    {
        Directory.CreateDirectory(directory);
        DeleteStale(directory);
        string path = Path.Combine(directory, $"{FilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        bool windows = OperatingSystem.IsWindows();
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0,
            windows ? FileOptions.DeleteOnClose : FileOptions.None);
        if (!windows) File.Delete(path);
        Length = weights.Length;
        Store(weights);
    }

    private const string FilePrefix = "held-weights-";

    /// <summary>Deletes held-weights scratch files in <paramref name="directory"/> that a process left behind; a file
    /// still open elsewhere (Windows) or not ours to delete is skipped. Returns how many were deleted.</summary>
    public static int DeleteStale(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int deleted = 0;
        foreach (var file in Directory.EnumerateFiles(directory, FilePrefix + "*.bin"))
        {
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // in use by a live process (Windows) or another user's: not stale, or not ours
            }
        }
        return deleted;
    }

    /// <summary>Number of weights held.</summary>
    public int Length { get; }

    /// <summary>Replaces the held copy with <paramref name="weights"/> (same length).</summary>
    public void Store(ReadOnlySpan<float> weights)
    {
        CheckLength(weights.Length);
        for (int start = 0; start < weights.Length; start += Chunk)
        {
            var part = weights.Slice(start, Math.Min(Chunk, weights.Length - start));
            RandomAccess.Write(_file.SafeFileHandle, MemoryMarshal.AsBytes(part), 4L * start);
        }
    }

    /// <summary>Writes the held copy into <paramref name="destination"/> (same length).</summary>
    public void CopyTo(Span<float> destination)
    {
        CheckLength(destination.Length);
        for (int start = 0; start < destination.Length; start += Chunk)
        {
            var bytes = MemoryMarshal.AsBytes(destination.Slice(start, Math.Min(Chunk, destination.Length - start)));
            int done = 0;
            while (done < bytes.Length)
            {
                int read = RandomAccess.Read(_file.SafeFileHandle, bytes[done..], 4L * start + done);
                if (read == 0) throw new IOException($"The held-weights scratch file '{_file.Name}' ended early.");
                done += read;
            }
        }
    }

    /// <summary>Deletes the scratch file.</summary>
    public void Dispose() => _file.Dispose();

    private void CheckLength(int length)
    {
        if (length != Length) throw new ArgumentException($"Expected {Length} weights, got {length}.");
    }
}
