using Federated.Core.Seeds;
using Google.Protobuf;

namespace Federated.Protocol.V1;

// Every conversion between FedKSeed's wire messages and the in-memory form, SeedScalar (seed index, scalar), lives in
// this file: the uplink SeedScalars (one client's steps) and the downlink SeedScalarDelta (ΔH since a version).

/// <summary>One client's (seed index, scalar) steps on the wire: parallel <c>seed_indices</c> and <c>scalars</c>.</summary>
public sealed partial class SeedScalars
{
    /// <summary>The message for <paramref name="steps"/>, in their order.</summary>
    public static SeedScalars From(IEnumerable<SeedScalar> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var message = new SeedScalars();
        foreach (var step in steps)
        {
            if (step.SeedIndex < 0) throw new ArgumentOutOfRangeException(nameof(steps), step.SeedIndex, "A seed index is negative.");
            message.SeedIndices.Add((uint)step.SeedIndex);
            message.Scalars.Add(step.Value);
        }
        return message;
    }

    /// <summary>The steps, in message order. Checks only the shape (equal lengths); the receiver checks them against
    /// its round (K, τ, finiteness): an index above int.MaxValue comes out negative, i.e. (uint)SeedIndex is the wire value.</summary>
    /// <exception cref="InvalidDataException">The lists differ in length.</exception>
    public SeedScalar[] ToSeedScalars()
    {
        int n = SeedIndices.Count;
        if (n != Scalars.Count)
            throw new InvalidDataException($"seed_scalars has {n} seed_indices but {Scalars.Count} scalars; they must match.");
        var steps = new SeedScalar[n];
        for (int t = 0; t < n; t++) steps[t] = new SeedScalar((int)SeedIndices[t], Scalars[t]);
        return steps;
    }

    /// <summary>Parses serialized SeedScalars bytes (a stored or captured update) into steps.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a SeedScalars message, or its lists differ in length.</exception>
    public static SeedScalar[] Decode(ReadOnlySpan<byte> payload)
    {
        SeedScalars message;
        try
        {
            message = Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"seed_scalars is not a valid SeedScalars message: {ex.Message}", ex);
        }
        return message.ToSeedScalars();
    }
}

/// <summary>
/// The two wire forms of a FedKSeed ΔH download (sparse index/value lists, or dense K floats) and the rule choosing
/// between them, in one place so the server and the simulator count and send the same bytes.
/// </summary>
public sealed partial class SeedScalarDelta
{
    /// <summary>
    /// Builds the smaller form for <paramref name="seedCount"/> seeds. Sparse costs ~(varint index + 4) bytes per
    /// changed seed, dense 4 bytes per seed; with more than about two thirds of the seeds changed, dense wins.
    /// </summary>
    public static SeedScalarDelta Create(long fromVersion, int seedCount, IReadOnlyList<uint> seedIndices, IReadOnlyList<float> deltas)
    {
        if (seedIndices.Count != deltas.Count)
            throw new ArgumentException($"{seedIndices.Count} seed indices but {deltas.Count} deltas.", nameof(deltas));
        var sparse = new SeedScalarDelta { FromVersion = (ulong)fromVersion };
        sparse.SeedIndices.Add(seedIndices);
        sparse.ScalarDeltas.Add(deltas);
        var dense = new SeedScalarDelta { FromVersion = (ulong)fromVersion };
        var values = new float[seedCount];
        for (int i = 0; i < seedIndices.Count; i++)
        {
            uint s = seedIndices[i];
            if (s >= (uint)seedCount) throw new ArgumentOutOfRangeException(nameof(seedIndices), s, $"Seed index is not below K = {seedCount}.");
            values[s] = deltas[i];
        }
        dense.DenseDeltas.Add(values);
        return dense.CalculateSize() < sparse.CalculateSize() ? dense : sparse;
    }

    /// <summary>The non-zero (seed index, ΔH) pairs in ascending seed order, whichever form was sent.</summary>
    public IEnumerable<(int SeedIndex, float Delta)> Entries()
    {
        if (DenseDeltas.Count > 0)
        {
            if (SeedIndices.Count > 0 || ScalarDeltas.Count > 0)
                throw new InvalidDataException("SeedScalarDelta has both the dense and the sparse form set.");
            for (int s = 0; s < DenseDeltas.Count; s++)
                if (DenseDeltas[s] != 0) yield return (s, DenseDeltas[s]);
            yield break;
        }
        if (SeedIndices.Count != ScalarDeltas.Count)
            throw new InvalidDataException($"SeedScalarDelta has {SeedIndices.Count} seed indices but {ScalarDeltas.Count} deltas.");
        for (int i = 0; i < SeedIndices.Count; i++)
        {
            if (i > 0 && SeedIndices[i] <= SeedIndices[i - 1])
                throw new InvalidDataException($"SeedScalarDelta seed indices are not strictly ascending at position {i}.");
            yield return ((int)SeedIndices[i], ScalarDeltas[i]);
        }
    }
}
