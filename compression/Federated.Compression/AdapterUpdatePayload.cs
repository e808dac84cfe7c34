using Federated.Compression.Dense;
using Federated.Compression.Ternary;

namespace Federated.Compression;

/// <summary>
/// A ComPEFT adapter change as it travels (an upload, a model version, a GetModel COMPRESSED_ADAPTER payload): either
/// the ternary codec ("TRNY") or the dense float32 codec ("F32U"); the magic tells which. Server and edge client read it
/// with the same call, so both apply a version with the same float operations.
/// </summary>
public static class AdapterUpdatePayload
{
    /// <summary>accumulator += decode(payload) (weight 1, exact: each element is added once); empty = no change.</summary>
    /// <exception cref="InvalidDataException">The payload is malformed (one sentence from the codec).</exception>
    public static void Accumulate(ReadOnlySpan<byte> payload, Span<float> accumulator)
    {
        if (payload.IsEmpty) return;
        if (DenseUpdateCodec.HasMagic(payload)) DenseUpdateCodec.DecodeAccumulate(payload, 1f, accumulator);
        else TernaryCodec.DecodeAccumulate(payload, 1f, accumulator);
    }
}
