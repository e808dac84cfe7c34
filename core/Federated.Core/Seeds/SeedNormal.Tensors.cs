namespace Federated.Core.Seeds;

/// <summary>Where tensor <see cref="TensorIndex"/> (HF parameter order) lives in a model's parameter arena.</summary>
public readonly record struct SeedTensor(int TensorIndex, long Offset, int Length);

public static partial class SeedNormal
{
    /// <summary>
    /// For every listed tensor, arena[Offset + i] += scale·z(seed, TensorIndex, i): one whole-model perturbation or
    /// update. Work is split into (tensor, chunk of <see cref="ParallelChunk"/>) items run on the thread pool, so many
    /// small tensors (norms, biases) and a few large ones balance; the bits equal per-tensor <see cref="AddScaled"/>.
    /// </summary>
    public static unsafe void AddScaledTensors(ulong seed, Span<float> arena, ReadOnlySpan<SeedTensor> tensors, float scale, int maxDegreeOfParallelism = -1)
    {
        long items = 0;
        foreach (var t in tensors)
        {
            if (t.TensorIndex < 0 || t.Offset < 0 || t.Length < 0 || t.Offset + t.Length > arena.Length)
                throw new ArgumentException($"Tensor {t.TensorIndex} at [{t.Offset}, {t.Offset + t.Length}) does not fit an arena of {arena.Length} elements.", nameof(tensors));
            items += (t.Length + ParallelChunk - 1) / ParallelChunk;
        }
        // Flatten to (tensor position, chunk start) work items; a prefix over tensors maps an item to its tensor.
        var firstItem = new long[tensors.Length + 1];
        for (int j = 0; j < tensors.Length; j++)
            firstItem[j + 1] = firstItem[j] + (tensors[j].Length + ParallelChunk - 1) / ParallelChunk;
        var list = tensors.ToArray();
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Path path = BestPath;
        fixed (float* pointer = arena)
        {
            nint address = (nint)pointer;
            Parallel.For(0L, items, options, item =>
            {
                int j = Array.BinarySearch(firstItem, item);
                if (j < 0) j = ~j - 1;
                while (j + 1 < firstItem.Length && firstItem[j + 1] <= item) j++;    // skip empty tensors
                var t = list[j];
                int start = (int)((item - firstItem[j]) * ParallelChunk);
                int count = Math.Min(ParallelChunk, t.Length - start);
                Run(seed, (uint)t.TensorIndex, start, new Span<float>((float*)address + t.Offset + start, count), scale, add: true, path);
            });
        }
    }
}
