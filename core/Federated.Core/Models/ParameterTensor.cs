namespace Federated.Core.Models;

/// <summary>
/// A named parameter tensor: a slice of a float32 arena (weights) with its matching gradient slice.
/// This is the seam other code works through: zeroth-order perturbation, optimizers and aggregation walk
/// the list of these in Hugging Face <c>named_parameters()</c> order and touch <see cref="Data"/> / <see cref="Grad"/>.
/// </summary>
public sealed class ParameterTensor
{
    private readonly float[] _weights;
    private readonly Func<float[]?> _grads;

    internal ParameterTensor(string name, int[] shape, int offset, float[] weights, Func<float[]?> grads)
    {
        Name = name;
        Shape = shape;
        Offset = offset;
        Length = checked((int)shape.Aggregate(1L, (a, d) => a * d));
        _weights = weights;
        _grads = grads;
    }

    /// <summary>Hugging Face / PEFT name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Shape as stored in the checkpoint (Linear: [out, in]; GPT-2 Conv1D: [in, out]).</summary>
    public int[] Shape { get; }

    /// <summary>Element offset of this tensor inside the weight (and gradient) arena.</summary>
    public int Offset { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The weights, row-major.</summary>
    public Span<float> Data => _weights.AsSpan(Offset, Length);

    /// <summary>The weights as memory (for writers and aggregation).</summary>
    public Memory<float> Memory => _weights.AsMemory(Offset, Length);

    /// <summary>The gradient; throws when gradients have not been enabled on the owner.</summary>
    public Span<float> Grad => (_grads() ?? throw new InvalidOperationException(
        $"Gradients of '{Name}' are not allocated; call EnableGradients() first.")).AsSpan(Offset, Length);

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
