using Federated.Core.Models;
using Federated.Core.Seeds;

namespace Federated.Core.ZerothOrder;

/// <summary>
/// In-place moves of the trainable weights along seeded directions: w ← w + scale·z(seed), with z regenerated from
/// the seed protocol tensor by tensor and never stored (memory of a ZO step = memory of inference).
/// Time: one normal per trainable element per call; at 4 calls per MeZO step this is a large part of a ZO step.
/// </summary>
public static class SeedPerturbation
{
    /// <summary>w[t] ← w[t] + scale·z(seed, t) for every tensor t of <paramref name="trainable"/>.</summary>
    public static void Apply(ICausalLm model, TrainableSet trainable, ulong seed, float scale) =>
        model.Perturb(seed, scale, trainable.Tensors);

    /// <summary>
    /// Replays accumulated scalars: for each (seed index, Δ) in ascending seed-index order, w ← w − lr·Δ·z(pool[index]).
    /// Server and clients call this same function with the same float Δ values, so their models stay bit-identical.
    /// Cost: one perturbation pass per entry; a sync never needs more than K of them however many rounds passed.
    /// </summary>
    public static void Replay(ICausalLm model, TrainableSet trainable, ReadOnlySpan<ulong> seedPool,
        IReadOnlyList<SeedScalar> deltas, float learningRate)
    {
        var ordered = deltas.ToArray();
        Array.Sort(ordered, static (a, b) => a.SeedIndex.CompareTo(b.SeedIndex));
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i].SeedIndex == ordered[i - 1].SeedIndex)
                throw new ArgumentException($"Seed index {ordered[i].SeedIndex} appears twice in the replay list.", nameof(deltas));
        foreach (var delta in ordered)
        {
            if ((uint)delta.SeedIndex >= (uint)seedPool.Length)
                throw new ArgumentOutOfRangeException(nameof(deltas), delta.SeedIndex, $"Seed index is outside the pool of {seedPool.Length}.");
            if (delta.Value == 0) continue;
            Apply(model, trainable, seedPool[delta.SeedIndex], -learningRate * delta.Value);
        }
    }
}
