namespace Federated.Core.Lora;

/// <summary>
/// The order in which a LoRA adapter's trainable tensors are flattened into one float32 vector for ComPEFT
/// (docs/compeft.md §1): the trainable PEFT state-dict tensors sorted by key in ordinal string order (as the reference's
/// <c>state_dict_to_vector</c>), each flattened row-major, concatenated. With FFA-LoRA (<c>freezeA</c>) only the
/// lora_B tensors are trainable, so only they appear. Every adapter made from the same base model and
/// <see cref="LoraConfig"/> has the same layout, so a layout built from one adapter applies to all of them.
/// </summary>
public sealed class LoraUpdateLayout
{
    private readonly int[] _parameterIndices;   // index into LoraAdapter.Parameters, in flattening order

    private LoraUpdateLayout(LoraAdapter adapter, bool freezeA)
    {
        FreezeA = freezeA;
        var chosen = adapter.Parameters
            .Select((p, i) => (p, i))
            .Where(t => !freezeA || t.p.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
            .OrderBy(t => t.p.Name, StringComparer.Ordinal)
            .ToArray();
        _parameterIndices = [.. chosen.Select(t => t.i)];
        Names = [.. chosen.Select(t => t.p.Name)];
        TensorLengths = [.. chosen.Select(t => t.p.Length)];
        ElementCount = TensorLengths.Sum(l => (long)l) is var n && n <= int.MaxValue ? (int)n
            : throw new ArgumentException($"The adapter's trainable size {n} exceeds one float32 vector.", nameof(adapter));
        ParameterCount = adapter.Parameters.Count;
    }

    /// <summary>The layout of <paramref name="adapter"/>'s trainable tensors (B only when <paramref name="freezeA"/>).</summary>
    public static LoraUpdateLayout Create(LoraAdapter adapter, bool freezeA)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        return new LoraUpdateLayout(adapter, freezeA);
    }

    /// <summary>Whether A is frozen (and left out).</summary>
    public bool FreezeA { get; }

    /// <summary>PEFT keys in flattening order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Element count of each tensor, in flattening order (the codec's per-tensor lengths).</summary>
    public IReadOnlyList<int> TensorLengths { get; }

    /// <summary>n, the length of the flattened vector.</summary>
    public int ElementCount { get; }

    private int ParameterCount { get; }

    /// <summary>The adapter's trainable tensors in flattening order.</summary>
    public IEnumerable<Models.ParameterTensor> Tensors(LoraAdapter adapter)
    {
        Check(adapter);
        return _parameterIndices.Select(i => adapter.Parameters[i]);
    }

    /// <summary>destination [n] = the adapter's trainable weights, flattened.</summary>
    public void Gather(LoraAdapter adapter, Span<float> destination)
    {
        Check(adapter);
        CheckLength(destination.Length, nameof(destination));
        int offset = 0;
        foreach (int i in _parameterIndices)
        {
            var data = adapter.Parameters[i].Data;
            data.CopyTo(destination.Slice(offset, data.Length));
            offset += data.Length;
        }
    }

    /// <summary>adapter's trainable weights += scale·delta (delta flattened in this layout).</summary>
    public void AddTo(LoraAdapter adapter, ReadOnlySpan<float> delta, float scale = 1f)
    {
        Check(adapter);
        CheckLength(delta.Length, nameof(delta));
        int offset = 0;
        foreach (int i in _parameterIndices)
        {
            var data = adapter.Parameters[i].Data;
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(delta.Slice(offset, data.Length), scale, data, data);
            offset += data.Length;
        }
    }

    private void Check(LoraAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (adapter.Parameters.Count != ParameterCount)
            throw new ArgumentException($"The adapter has {adapter.Parameters.Count} tensors; this layout was built for {ParameterCount}.", nameof(adapter));
        for (int j = 0; j < _parameterIndices.Length; j++)
        {
            var p = adapter.Parameters[_parameterIndices[j]];
            if (p.Name != Names[j] || p.Length != TensorLengths[j])
                throw new ArgumentException($"Adapter tensor '{p.Name}' ({p.Length} elements) does not match the layout's '{Names[j]}' ({TensorLengths[j]}).", nameof(adapter));
        }
    }

    private void CheckLength(int length, string name)
    {
        if (length != ElementCount)
            throw new ArgumentException($"The vector has {length} elements; the adapter update has {ElementCount}.", name);
    }
}
