using Federated.Core.Models;
using Federated.Core.Seeds;

namespace Federated.Core.ZerothOrder;

/// <summary>
/// The one FedKSeed sync: moves a model to the next global version by replaying that version's ΔH download,
/// w ← w − η·ΔH[s]·z(pool[s]) per seed in ascending index order (<see cref="SeedPerturbation.Replay"/>). The simulator's
/// global model, the edge client's held copy, the server's full checkpoint and the privacy audit all sync through it, so they apply the same
/// float values in the same order and stay bit-identical. What the caller keeps around the model (restoring it before a
/// sync, storing it after, files, caches) stays with the caller.
/// </summary>
/// <param name="model">The model the changes are applied to, in place.</param>
/// <param name="trainable">The tensors that move (z is keyed by the full tensor list, so filtering shifts nothing).</param>
/// <param name="seedPool">The K seeds of the run (<see cref="SeedPool.Derive"/>).</param>
/// <param name="learningRate">η of the run.</param>
public sealed class FedKSeedSync(ICausalLm model, TrainableSet trainable, ulong[] seedPool, float learningRate)
{
    private readonly ulong[] _seedPool = seedPool ?? throw new ArgumentNullException(nameof(seedPool));

    /// <summary>The model the changes are applied to.</summary>
    public ICausalLm Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The tensors that move.</summary>
    public TrainableSet Trainable { get; } = trainable ?? throw new ArgumentNullException(nameof(trainable));

    /// <summary>η.</summary>
    public float LearningRate { get; } = learningRate;

    /// <summary>Applies one ΔH given as parallel arrays (the wire and store form): seed index i carries
    /// <paramref name="scalarDeltas"/>[i].</summary>
    /// <exception cref="InvalidDataException">A seed index not below K, naming it.</exception>
    /// <exception cref="ArgumentException">The arrays differ in length, or an index appears twice.</exception>
    public void Apply(ReadOnlySpan<uint> seedIndices, ReadOnlySpan<float> scalarDeltas)
    {
        if (seedIndices.Length != scalarDeltas.Length)
            throw new ArgumentException($"A model change has {seedIndices.Length} seed indices but {scalarDeltas.Length} scalar deltas.", nameof(scalarDeltas));
        var deltas = new SeedScalar[seedIndices.Length];
        for (int i = 0; i < deltas.Length; i++)
        {
            if (seedIndices[i] >= (uint)_seedPool.Length)
                throw new InvalidDataException($"The model change names seed index {seedIndices[i]}, not below K = {_seedPool.Length}.");
            deltas[i] = new SeedScalar((int)seedIndices[i], scalarDeltas[i]);
        }
        Apply(deltas);
    }

    /// <summary>Applies one ΔH given as (seed index, Δ) pairs, in any order.</summary>
    /// <exception cref="ArgumentException">An index appears twice or lies outside the pool.</exception>
    public void Apply(IReadOnlyList<SeedScalar> deltas) => SeedPerturbation.Replay(Model, Trainable, _seedPool, deltas, LearningRate);
}
