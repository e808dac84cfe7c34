namespace Federated.Cli;

/// <summary>Applies `--threads` to the engine (kernels and the seed protocol's parallel loops).</summary>
internal static class EngineSettings
{
    public static void Apply(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "--threads must be at least 1.");
        ThreadPool.SetMinThreads(threads, threads);
    }
}
