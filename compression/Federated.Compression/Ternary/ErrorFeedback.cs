using System.Numerics.Tensors;

namespace Federated.Compression.Ternary;

/// <summary>
/// Error feedback (STC / EF-SGD "memory") for the biased top-k ternary codec. Per client, per round:
/// c = Δ + e;  payload = C(c);  e ← c − D(payload). The residual e has the update's length and lives on the client;
/// it starts at zero and is carried to the next round so that nothing the codec drops is lost for good.
/// </summary>
public static class ErrorFeedback
{
    /// <summary>corrected = delta + residual.</summary>
    public static void AddResidual(ReadOnlySpan<float> delta, ReadOnlySpan<float> residual, Span<float> corrected)
    {
        CheckLengths(delta.Length, residual.Length, corrected.Length);
        TensorPrimitives.Add(delta, residual, corrected);
    }

    /// <summary>residual = corrected − decoded.</summary>
    public static void UpdateResidual(ReadOnlySpan<float> corrected, ReadOnlySpan<float> decoded, Span<float> residual)
    {
        CheckLengths(corrected.Length, decoded.Length, residual.Length);
        TensorPrimitives.Subtract(corrected, decoded, residual);
    }

    /// <summary>One client step: encodes Δ + e and replaces <paramref name="residual"/> by what the payload does not carry.</summary>
    public static byte[] EncodeWithFeedback(ReadOnlySpan<float> delta, Span<float> residual, TernaryOptions options)
    {
        var corrected = new float[delta.Length];
        AddResidual(delta, residual, corrected);
        byte[] payload = TernaryCodec.Encode(corrected, options);
        TernaryCodec.Decode(payload, residual); // residual now holds D(payload)
        TensorPrimitives.Subtract(corrected, residual, residual);
        return payload;
    }

    private static void CheckLengths(int a, int b, int c)
    {
        if (a != b || a != c)
            throw new ArgumentException($"Error feedback spans differ in length: {a}, {b} and {c}.");
    }
}
