namespace Federated.Core.Kernels;

/// <summary>
/// A small persistent pool of background threads for kernels (no Task or Parallel.For, which allocate per call).
/// One job runs at a time. The caller hands the job to idle workers, takes items itself, and returns once every
/// item has finished. Items are claimed from a 64-bit counter tagged with the job's generation (high 32 bits), so
/// a worker that wakes late can never take an item of a later job. Workers spin briefly after a job (a GEMM
/// issues its phases back to back), then sleep on an event.
/// </summary>
internal sealed class WorkerPool
{
    public static readonly WorkerPool Shared = new();

    private const int SpinRounds = 2_000;

    private readonly object _runLock = new();
    private readonly List<Worker> _workers = [];
    private long _claim;          // (generation << 32) | next item
    private int _pending;         // items of the current job not yet finished
    private int _generation;
    private Exception? _error;

    /// <summary>Runs the job on the caller plus up to threads-1 workers; false if the pool is busy.</summary>
    public bool TryRun(ParallelJob job, int itemCount, int threads)
    {
        if (!Monitor.TryEnter(_runLock)) return false;
        try
        {
            int helpers = Math.Min(threads, itemCount) - 1;
            while (_workers.Count < helpers) _workers.Add(new Worker(this, _workers.Count));
            int generation = ++_generation;
            _error = null;
            Volatile.Write(ref _pending, itemCount);
            Volatile.Write(ref _claim, (long)generation << 32);
            for (int w = 0; w < helpers; w++) _workers[w].TryAssign(job, itemCount, generation);

            Drain(job, itemCount, generation);
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            if (_error is { } e) throw new AggregateException("A kernel work item failed.", e);
            return true;
        }
        finally
        {
            Monitor.Exit(_runLock);
        }
    }

    private void Drain(ParallelJob job, int count, int generation)
    {
        while (true)
        {
            long v = Volatile.Read(ref _claim);
            if ((int)(v >> 32) != generation) return;
            int item = (int)(v & 0xFFFF_FFFF);
            if (item >= count) return;
            if (Interlocked.CompareExchange(ref _claim, v + 1, v) != v) continue;
            try { job.Execute(item); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            Interlocked.Decrement(ref _pending);
        }
    }

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
        private int _assigned;        // 1 while a job is handed to this worker and not yet drained
        private ParallelJob? _job;
        private int _count;
        private int _generation;

        public Worker(WorkerPool pool, int index)
        {
            _pool = pool;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Federated kernel worker {index}" };
            thread.Start();
        }

        /// <summary>Hands the job to this worker if it is idle (a busy straggler is simply skipped).</summary>
        public void TryAssign(ParallelJob job, int count, int generation)
        {
            if (Volatile.Read(ref _assigned) != 0) return;
            _job = job;
            _count = count;
            _generation = generation;
            Volatile.Write(ref _assigned, 1);
            _wake.Set();
        }

        private void Loop()
        {
            while (true)
            {
                int rounds = 0;
                while (Volatile.Read(ref _assigned) == 0)
                {
                    if (rounds++ < SpinRounds)
                    {
                        // Yield now and then: on an oversubscribed machine the caller may need this core.
                        if ((rounds & 15) == 0) Thread.Yield();
                        else Thread.SpinWait(20);
                        continue;
                    }
                    _wake.Reset();
                    if (Volatile.Read(ref _assigned) == 0) _wake.Wait();
                }
                _pool.Drain(_job!, _count, _generation);
                _job = null;
                Volatile.Write(ref _assigned, 0);
            }
        }
    }
}
