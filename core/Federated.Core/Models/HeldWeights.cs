using System.Runtime.InteropServices;

namespace Federated.Core.Models;

/// <summary>
/// A float32 copy of a model's weights set aside to return to — e.g. the global version a simulated client starts
/// from and the model goes back to after its local steps. Two homes:
/// <list type="bullet">
/// <item><see cref="InMemory"/>: a managed array (restores at memory speed; the process holds two models).</item>
/// <item><see cref="InScratchFile"/>: an unnamed-on-close file of 4 bytes per weight, written and read with plain
/// positional I/O (never memory-mapped), so the copy lives in the OS page cache, which the kernel can drop to disk
/// under memory pressure, and the process holds one model. A restore is one sequential read.</item>
/// </list>
/// Both give back exactly the bits stored.
/// </summary>
public abstract class HeldWeights : IDisposable
{
    /// <summary>Number of weights held.</summary>
    public abstract int Length { get; }

    /// <summary>Replaces the held copy with <paramref name="weights"/> (same length).</summary>
    public abstract void Store(ReadOnlySpan<float> weights);

    /// <summary>Writes the held copy into <paramref name="destination"/> (same length).</summary>
    public abstract void CopyTo(Span<float> destination);

    /// <summary>Releases the copy (deletes the scratch file).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>A copy in a managed array.</summary>
    public static HeldWeights InMemory(ReadOnlySpan<float> weights) => new MemoryCopy(weights);

    /// <summary>A copy in a scratch file under <paramref name="directory"/>, deleted when disposed (or when the process
    /// closes the handle).</summary>
    public static HeldWeights InScratchFile(ReadOnlySpan<float> weights, string directory) => new FileCopy(weights, directory);

    private void CheckLength(int length)
    {
        if (length != Length) throw new ArgumentException($"Expected {Length} weights, got {length}.");
    }

    private sealed class MemoryCopy(ReadOnlySpan<float> weights) : HeldWeights
    {
        private readonly float[] _copy = weights.ToArray();

        public override int Length => _copy.Length;

        public override void Store(ReadOnlySpan<float> weights) { CheckLength(weights.Length); weights.CopyTo(_copy); }

        public override void CopyTo(Span<float> destination) { CheckLength(destination.Length); _copy.CopyTo(destination); }
    }

    private sealed class FileCopy : HeldWeights
    {
        private readonly FileStream _file;
        private readonly int _length;

        public FileCopy(ReadOnlySpan<float> weights, string directory)
        {
            Directory.CreateDirectory(directory);
            string path = Path.Combine(directory, $"held-weights-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose);
            _length = weights.Length;
            Store(weights);
        }

        public override int Length => _length;

        /// <summary>Weights per I/O call (1 GiB), so that models over 2 GiB never form a byte span longer than int.MaxValue.</summary>
        private const int Chunk = 1 << 28;

        public override void Store(ReadOnlySpan<float> weights)
        {
            CheckLength(weights.Length);
            for (int start = 0; start < weights.Length; start += Chunk)
            {
                var part = weights.Slice(start, Math.Min(Chunk, weights.Length - start));
                RandomAccess.Write(_file.SafeFileHandle, MemoryMarshal.AsBytes(part), 4L * start);
            }
        }

        public override void CopyTo(Span<float> destination)
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

        public override void Dispose()
        {
            _file.Dispose();
            base.Dispose();
        }
    }
}
