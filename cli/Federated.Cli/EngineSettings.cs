using Federated.Core.Kernels;

namespace Federated.Cli;

/// <summary>Applies `--threads` to the engine: kernels, attention (models created afterwards) and the seed protocol.</summary>
internal static class EngineSettings
{
    public static void Apply(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "--threads must be at least 1.");
        EngineThreads.Count = threads;
    }
}
