using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.ZerothOrder;
using Federated.Data.Training;

namespace Federated.Privacy.Gradients;

/// <summary>
/// What a curious server can compute for a candidate batch: the first-order gradient g(x) that a client holding x
/// would produce from the round-start state, flattened in the same order as the update the server received.
/// Two views: the LoRA update (the adapter's trainable tensors in <see cref="LoraUpdateLayout"/> order, B only with
/// FFA-LoRA) and a base-model update (the tensors a <see cref="TrainableSet"/> pattern selects, HF order).
/// A batch is packed like the client trainer packs it: right-padded with id 0, response-only loss mask, padding
/// masked, mean cross-entropy over the masked targets. Cost of <see cref="Gradient"/>: one forward and one backward.
/// Not thread-safe (it drives one model).
/// </summary>
public sealed class GradientOracle
{
    private readonly CausalLm _model;
    private readonly LoraAdapter? _adapter;
    private readonly ParameterTensor[] _tensors;
    private int[] _ids = [];
    private bool[] _mask = [];

    private GradientOracle(CausalLm model, LoraAdapter? adapter, ParameterTensor[] tensors, string description)
    {
        _model = model;
        _adapter = adapter;
        _tensors = tensors;
        Description = description;
        long n = tensors.Sum(t => (long)t.Length);
        ElementCount = n <= int.MaxValue ? (int)n : throw new ArgumentException($"The update has {n} elements; at most {int.MaxValue} fit one vector.", nameof(tensors));
    }

    /// <summary>
    /// The LoRA view: <paramref name="adapter"/> (holding the round-start adapter) is attached to <paramref name="model"/>,
    /// base weights are not trained, A is trained unless the layout freezes it. Gradients come out in layout order.
    /// </summary>
    public static GradientOracle ForLora(CausalLm model, LoraAdapter adapter, LoraUpdateLayout layout)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(layout);
        if (!ReferenceEquals(model.Adapter, adapter)) model.AttachAdapter(adapter);
        adapter.TrainA = !layout.FreezeA;
        return new GradientOracle(model, adapter, [.. layout.Tensors(adapter)], layout.FreezeA ? "lora-b" : "lora");
    }

    /// <summary>
    /// The base-model view: every tensor whose HF name matches <paramref name="pattern"/> (a regular expression as
    /// <see cref="TrainableSet.Create"/> takes; null = all), in HF order. Base gradients are switched on.
    /// </summary>
    public static GradientOracle ForBaseParameters(CausalLm model, string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var set = TrainableSet.Create(model.Parameters, pattern);
        var tensors = new ParameterTensor[set.Indices.Length];
        for (int i = 0; i < tensors.Length; i++) tensors[i] = model.Parameters[set.Indices[i]];
        return new GradientOracle(model, null, tensors, set.Description);
    }

    /// <summary>The base-model view over parameter indices (HF order, ascending), e.g. a <see cref="TrainableSet"/>'s.</summary>
    internal static GradientOracle ForTensors(CausalLm model, ReadOnlySpan<int> parameterIndices)
    {
        var tensors = new ParameterTensor[parameterIndices.Length];
        for (int i = 0; i < tensors.Length; i++) tensors[i] = model.Parameters[parameterIndices[i]];
        return new GradientOracle(model, null, tensors, "base");
    }

    /// <summary>The model the gradients are taken on (at the round-start state the caller set).</summary>
    public CausalLm Model => _model;

    /// <summary>The tensors of the view, in flattening order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>Length of the flattened gradient (= length of the update the probes read).</summary>
    public int ElementCount { get; }

    /// <summary>"lora-b", "lora" or the base-parameter pattern.</summary>
    public string Description { get; }

    /// <summary>
    /// destination [<see cref="ElementCount"/>] = ∇ of the batch's mean response-only loss w.r.t. the view's tensors;
    /// returns that loss. A single step of plain SGD with learning rate η makes the client's update −η times this.
    /// </summary>
    public float Gradient(IReadOnlyList<TokenizedExample> batch, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("The batch is empty.", nameof(batch));
        if (destination.Length != ElementCount) throw new ArgumentException($"The destination has {destination.Length} elements; the update has {ElementCount}.", nameof(destination));
        int seqLen = 0;
        foreach (var e in batch) seqLen = Math.Max(seqLen, e.Ids.Length);
        int n = batch.Count * seqLen;
        if (_ids.Length < n) { _ids = new int[n]; _mask = new bool[n]; }
        Pack(batch, seqLen, _ids, _mask);

        _model.TrainBaseWeights = _adapter is null;
        if (_adapter is null) _model.EnableGradients();
        _model.KeepActivationsForBackward = true;
        _model.ZeroGrad();
        float loss = _model.ForwardLoss(_ids.AsSpan(0, n), batch.Count, seqLen, _mask.AsSpan(0, n));
        _model.Backward();
        int offset = 0;
        foreach (var t in _tensors)
        {
            t.Grad.CopyTo(destination.Slice(offset, t.Length));
            offset += t.Length;
        }
        return loss;
    }

    /// <summary>Allocating form of <see cref="Gradient(IReadOnlyList{TokenizedExample}, Span{float})"/>.</summary>
    public float[] Gradient(IReadOnlyList<TokenizedExample> batch)
    {
        var g = new float[ElementCount];
        Gradient(batch, g);
        return g;
    }

    /// <summary>Right-pads to seqLen: ids [B, T] (padding 0), mask [B, T] = each example's loss mask, false on padding.</summary>
    internal static void Pack(IReadOnlyList<TokenizedExample> batch, int seqLen, Span<int> ids, Span<bool> mask)
    {
        for (int b = 0; b < batch.Count; b++)
        {
            var rowIds = ids.Slice(b * seqLen, seqLen);
            var rowMask = mask.Slice(b * seqLen, seqLen);
            rowIds.Clear();
            rowMask.Clear();
            batch[b].Ids.CopyTo(rowIds);
            batch[b].LossMask.CopyTo(rowMask);
        }
    }
}
