namespace Federated.Core.Kernels;

/// <summary>
/// Layout changes between token-major rows (projection outputs, [seqLen, rowStride] with a head block at colOffset)
/// and head-major blocks ([heads, capacity, hd], the layout attention and the KV cache use).
/// </summary>
internal static class Heads
{
    /// <summary>output[h, startRow + t, :] = x[t·rowStride + colOffset + h·hd …].</summary>
    public static void ToHeadMajor(ReadOnlySpan<float> x, int rowStride, int colOffset, int seqLen, int headCount, int headDim,
        int startRow, int capacity, Span<float> output)
    {
        for (int t = 0; t < seqLen; t++)
        for (int h = 0; h < headCount; h++)
            x.Slice(t * rowStride + colOffset + h * headDim, headDim)
                .CopyTo(output.Slice((h * capacity + startRow + t) * headDim, headDim));
    }

    /// <summary>output[t·rowStride + colOffset + h·hd …] = input[h, startRow + t, :].</summary>
    public static void FromHeadMajor(ReadOnlySpan<float> input, int seqLen, int headCount, int headDim, int startRow, int capacity,
        int rowStride, int colOffset, Span<float> output)
    {
        for (int t = 0; t < seqLen; t++)
        for (int h = 0; h < headCount; h++)
            input.Slice((h * capacity + startRow + t) * headDim, headDim)
                .CopyTo(output.Slice(t * rowStride + colOffset + h * headDim, headDim));
    }
}
