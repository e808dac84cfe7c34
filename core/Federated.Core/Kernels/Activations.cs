using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>SiLU-gated unit of the LLaMA MLP: y = silu(g) ⊙ u, silu(g) = g·σ(g).</summary>
internal static class SwiGlu
{
    public static void Forward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        TensorPrimitives.Sigmoid(gate, output);
        TensorPrimitives.Multiply(output, gate, output);
        TensorPrimitives.Multiply(output, up, output);
    }

    /// <summary>dGate = dy ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))); dUp = dy ⊙ silu(g). Both overwritten.</summary>
    public static void Backward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ReadOnlySpan<float> dOutput, Span<float> dGate, Span<float> dUp)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            float s = 1f / (1f + MathF.Exp(-g));
            float silu = g * s;
            dUp[i] = dOutput[i] * silu;
            dGate[i] = dOutput[i] * up[i] * s * (1f + g * (1f - s));
        }
    }
}

/// <summary>GPT-2's gelu_new: y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
internal static class GeluNew
{
    private const float C = 0.7978845608028654f; // sqrt(2/pi)
    private const float K = 0.044715f;

    public static void Forward(ReadOnlySpan<float> x, Span<float> output)
    {
        // output = tanh(C·(x + K·x³)), then ½x(1 + output)
        TensorPrimitives.Multiply(x, x, output);
        TensorPrimitives.Multiply(output, x, output);
        TensorPrimitives.MultiplyAdd(output, K, x, output);
        TensorPrimitives.Multiply(output, C, output);
        TensorPrimitives.Tanh(output, output);
        TensorPrimitives.Add(output, 1f, output);
        TensorPrimitives.Multiply(output, x, output);
        TensorPrimitives.Multiply(output, 0.5f, output);
    }

    /// <summary>dX = dy·(½(1 + t) + ½x(1 − t²)·C(1 + 3K x²)), t = tanh(C(x + Kx³)). Overwritten.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dOutput, Span<float> dX)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float u = x[i];
            float t = MathF.Tanh(C * (u + K * u * u * u));
            float d = 0.5f * (1f + t) + 0.5f * u * (1f - t * t) * C * (1f + 3f * K * u * u);
            dX[i] = dOutput[i] * d;
        }
    }
}
