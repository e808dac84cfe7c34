using Federated.Core.Models;

namespace Federated.Core.Generation;

/// <summary>
/// Keys and values of every layer for one sequence, head-major [kvHeads, capacity, hd] per layer (keys after RoPE),
/// so a new token attends to rows 0..Length−1 without recomputing the prefix. Memory: 2·layers·kvHeads·capacity·hd floats.
/// </summary>
public sealed class KvCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private float[] _probs = [];

    public KvCache(ModelConfig config, int capacity)
    {
        if (capacity <= 0 || capacity > config.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"KV cache capacity {capacity} must be in 1..{config.MaxPositions} (the model's context length).");
        Capacity = capacity;
        int size = config.KvHeadCount * capacity * config.HeadDim;
        _keys = new float[config.LayerCount][];
        _values = new float[config.LayerCount][];
        for (int l = 0; l < config.LayerCount; l++)
        {
            _keys[l] = new float[size];
            _values[l] = new float[size];
        }
    }

    /// <summary>Maximum number of positions.</summary>
    public int Capacity { get; }

    /// <summary>Positions filled so far.</summary>
    public int Length { get; internal set; }

    /// <summary>Forgets every position (the buffers are reused).</summary>
    public void Reset() => Length = 0;

    internal float[] Keys(int layer) => _keys[layer];

    internal float[] Values(int layer) => _values[layer];

    /// <summary>Attention-probability scratch, grown on demand (only the prefill of a long prompt grows it).</summary>
    internal float[] ProbsScratch(int size)
    {
        if (_probs.Length < size) _probs = new float[size];
        return _probs;
    }
}
