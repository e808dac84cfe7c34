using System.Diagnostics;
using Federated.Core.Generation;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;

namespace Federated.Core.Diagnostics;

/// <summary>One stale-client sync: how many rounds it missed, how many local steps those rounds held, how many seeds
/// its ΔH touched (= perturbation passes replayed) and the wall time of the replay.</summary>
public sealed record ReplayBenchRow(int RoundsBehind, long StepsMissed, int SeedsReplayed, double Milliseconds)
{
    /// <summary>Time per replayed seed (one perturbation pass over the trainable weights).</summary>
    public double MillisecondsPerSeed => SeedsReplayed == 0 ? 0 : Milliseconds / SeedsReplayed;
}

/// <summary>
/// FedKSeed's sync cost for a client that is r rounds behind (docs/fedkseed.md §4): each missed round added
/// <c>stepsPerRound</c> = M·τ scalars on seeds drawn uniformly from K, and the client replays only the seeds whose H
/// changed since its version, one perturbation pass each. The number of distinct seeds is K·(1 − (1 − 1/K)^(r·M·τ)),
/// so the cost grows with r at first and then saturates at K passes however many rounds passed. The ΔH values do not
/// matter for the time (a pass costs the same for any scalar); the model's weights change, so use a scratch model.
/// </summary>
public static class ReplayBench
{
    /// <summary>Rounds-behind values of the default table.</summary>
    public static IReadOnlyList<int> DefaultRoundsBehind { get; } = [1, 2, 5, 20, 100];

    public static IReadOnlyList<ReplayBenchRow> Run(CausalLm model, int seedCount, int stepsPerRound, IReadOnlyList<int> roundsBehind,
        ulong seed = 42, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (seedCount < 1 || seedCount > SeedPool.MaxCount) throw new ArgumentOutOfRangeException(nameof(seedCount), seedCount, $"K must be in [1, {SeedPool.MaxCount}].");
        if (stepsPerRound < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerRound), stepsPerRound, "Steps per round (M·τ) must be at least 1.");
        var pool = SeedPool.Derive(seed, seedCount);
        var trainable = TrainableSet.All(model.Parameters);
        var rows = new List<ReplayBenchRow>(roundsBehind.Count);
        foreach (int rounds in roundsBehind)
        {
            if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(roundsBehind), rounds, "Rounds behind must be at least 1.");
            progress?.Invoke($"replay {rounds} rounds behind");
            var deltas = TouchedSeeds(seedCount, (long)rounds * stepsPerRound, SplitMix64.Derive(seed, rounds));
            var clock = Stopwatch.StartNew();
            SeedPerturbation.Replay(model, trainable, pool, deltas, 1e-6f);
            rows.Add(new ReplayBenchRow(rounds, (long)rounds * stepsPerRound, deltas.Count, clock.Elapsed.TotalMilliseconds));
        }
        return rows;
    }

    /// <summary>The ΔH a client would receive after <paramref name="steps"/> uniformly drawn seed steps: one entry per
    /// distinct seed, ascending.</summary>
    internal static List<SeedScalar> TouchedSeeds(int seedCount, long steps, ulong streamSeed)
    {
        var sums = new float[seedCount];
        var touched = new bool[seedCount];
        var random = new SplitMix64(streamSeed);
        for (long s = 0; s < steps; s++)
        {
            int index = (int)(random.NextDouble() * seedCount);
            sums[index] += (float)(random.NextDouble() - 0.5);
            touched[index] = true;
        }
        var deltas = new List<SeedScalar>();
        for (int i = 0; i < seedCount; i++)
            if (touched[i]) deltas.Add(new SeedScalar(i, sums[i] == 0 ? 1e-3f : sums[i]));
        return deltas;
    }
}
