namespace Federated.Core.Kernels;

/// <summary>
/// The process-wide number of threads the engine's kernels may use (the CLI's <c>--threads</c>).
/// Kernels split their work into fixed chunks that do not depend on this number, so results are
/// bit-identical for every setting; it only changes how many threads take chunks.
/// </summary>
public static class EngineThreads
{
    private static int _count = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Threads used by kernels (caller included); default <see cref="Environment.ProcessorCount"/>.</summary>
    public static int Count
    {
        get => Volatile.Read(ref _count);
        set
        {
            if (value < 1 || value > 1024)
                throw new ArgumentOutOfRangeException(nameof(value), value, "Thread count must be between 1 and 1024.");
            Volatile.Write(ref _count, value);
        }
    }

    /// <summary>
    /// Runs <paramref name="job"/> for items 0..itemCount-1 on up to <paramref name="threads"/> threads (the caller
    /// takes items too) and returns when all are done. Items are claimed dynamically; a job must make each item's
    /// result independent of which thread ran it. If the pool is busy (another caller, or a nested call from a
    /// worker) the items run inline on the caller. Allocates nothing after the pool's threads exist.
    /// </summary>
    internal static void Run(ParallelJob job, int itemCount, int threads)
    {
        if (itemCount <= 0) return;
        if (threads <= 1 || itemCount == 1 || !WorkerPool.Shared.TryRun(job, itemCount, threads))
        {
            for (int i = 0; i < itemCount; i++) job.Execute(i);
        }
    }
}

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once per item index.</summary>
internal abstract class ParallelJob
{
    public abstract void Execute(int item);
}
