namespace Federated.Core.Kernels;

/// <summary>Token (and position) embedding lookup: out[n] = table[ids[n]] (+ positions[pos(n)]).</summary>
internal static class Embedding
{
    /// <summary>output[n, :] = table[ids[n], :]; ids [rows], table [vocab, dim], output [rows, dim].</summary>
    public static void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<float> table, int dim, Span<float> output)
    {
        int vocab = table.Length / dim;
        for (int n = 0; n < ids.Length; n++)
        {
            int id = ids[n];
            if ((uint)id >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} at position {n} is outside the vocabulary of {vocab}.");
            table.Slice(id * dim, dim).CopyTo(output.Slice(n * dim, dim));
        }
    }

    /// <summary>dTable[ids[n], :] += dOutput[n, :] (sequential over n, so repeated ids sum in a fixed order).</summary>
    public static void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> dOutput, int dim, Span<float> dTable)
    {
        for (int n = 0; n < ids.Length; n++)
        {
            var row = dTable.Slice(ids[n] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, dOutput.Slice(n * dim, dim), row);
        }
    }

    /// <summary>Learned positions: x[b, t, :] += positions[startPos + t, :]; x [batch, seqLen, dim].</summary>
    public static void AddPositions(ReadOnlySpan<float> positions, int batchSize, int seqLen, int dim, int startPos, Span<float> x)
    {
        for (int b = 0; b < batchSize; b++)
        for (int t = 0; t < seqLen; t++)
        {
            var row = x.Slice((b * seqLen + t) * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, positions.Slice((startPos + t) * dim, dim), row);
        }
    }

    /// <summary>dPositions[t, :] += Σ_b dX[b, t, :].</summary>
    public static void AddPositionsBackward(ReadOnlySpan<float> dX, int batchSize, int seqLen, int dim, Span<float> dPositions)
    {
        for (int b = 0; b < batchSize; b++)
        for (int t = 0; t < seqLen; t++)
        {
            var row = dPositions.Slice(t * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, dX.Slice((b * seqLen + t) * dim, dim), row);
        }
    }
}
