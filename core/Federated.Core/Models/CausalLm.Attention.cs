using Federated.Core.Generation;
using Federated.Core.Kernels;

namespace Federated.Core.Models;

public sealed partial class CausalLm
{
    private int _threads = Kernels.EngineThreads.Count;
    private AttentionCall _call;
    private Action<int>? _forwardChunk, _backwardItem;

    /// <summary>
    /// Threads for the attention loops (items = (sequence, head) forward, (sequence, kv head) backward). Each item is
    /// computed the same way whatever the thread count and writes its own memory, so results are bit-identical for
    /// every value. 1 runs inline and allocates nothing; more threads cost Parallel.For's small allocations.
    /// </summary>
    public int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(Threads), $"Threads must be ≥ 1, got {value}.");
            if (value != _threads) _layoutBatch = -1; // the inference layout sizes per-chunk scratch by it
            _threads = value;
        }
    }

    /// <summary>What the per-item attention workers read (set before each dispatch; one model is not thread-safe anyway).</summary>
    private struct AttentionCall
    {
        public Layer L;
        public int SeqLen, Start, KeyLen, Capacity, Items, Chunks;
        public bool KeepProbs;               // training: probabilities stay in the layer's P slot for backward
        public float[]? Keys, Values, Probs; // cache mode (Probs: one [seqLen, keyLen] slot per chunk)
    }

    /// <summary>
    /// Attention of every (sequence, head) of one block: head-major Q/K/V → HeadOut. Items are split into
    /// min(Threads, items) fixed contiguous chunks; without backward each chunk reuses one [seqLen, keyLen] probability
    /// slot, so inference needs Threads·seqLen·keyLen floats instead of batch·heads·seqLen·keyLen.
    /// </summary>
    private void AttentionForward(Layer L, int batchSize, int seqLen, int start, KvCache? cache, int layerIndex)
    {
        int keyLen = start + seqLen;
        int items = batchSize * Config.HeadCount;
        int chunks = Math.Min(_threads, items);
        _call = new AttentionCall
        {
            L = L, SeqLen = seqLen, Start = start, KeyLen = keyLen, Items = items, Chunks = chunks,
            Capacity = cache?.Capacity ?? seqLen,
            KeepProbs = cache is null && !_layoutShared,
            Keys = cache?.Keys(layerIndex),
            Values = cache?.Values(layerIndex),
            Probs = cache?.ProbsScratch(chunks * seqLen * keyLen),
        };
        if (chunks <= 1)
        {
            ForwardChunk(0);
            return;
        }
        _forwardChunk ??= ForwardChunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, _forwardChunk);
    }

    /// <summary>Backward of every (sequence, kv head) group: DHeadOut → DQh, DKh, DVh.</summary>
    private void AttentionBackward(Layer L, int batchSize, int seqLen)
    {
        _call = new AttentionCall { L = L, SeqLen = seqLen, Start = 0, KeyLen = seqLen, Capacity = seqLen };
        int items = batchSize * Config.KvHeadCount;
        if (_threads <= 1 || items <= 1)
        {
            for (int i = 0; i < items; i++) BackwardItem(i);
            return;
        }
        _backwardItem ??= BackwardItem;
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = _threads }, _backwardItem);
    }

    private void ForwardChunk(int chunk)
    {
        ref readonly var a = ref _call;
        int from = (int)((long)chunk * a.Items / a.Chunks), to = (int)((long)(chunk + 1) * a.Items / a.Chunks);
        for (int i = from; i < to; i++) ForwardItem(i, chunk);
    }

    private void ForwardItem(int item, int slot)
    {
        var c = Config;
        ref readonly var a = ref _call;
        int hd = c.HeadDim, h = c.HeadCount, kvDim = c.KvHeadCount * hd, T = a.SeqLen;
        int b = item / h, head = item % h, g = head / (h / c.KvHeadCount);
        var acts = _acts.AsSpan();
        var q = acts.Slice(a.L.Qh + item * T * hd, T * hd);
        Span<float> k, v, p;
        if (a.Keys is null)
        {
            k = acts.Slice(a.L.Kh + b * T * kvDim + g * T * hd, T * hd);
            v = acts.Slice(a.L.Vh + b * T * kvDim + g * T * hd, T * hd);
            p = a.KeepProbs ? acts.Slice(a.L.P + item * T * T, T * T) : acts.Slice(_scratch.Probs + slot * T * T, T * T);
        }
        else
        {
            k = a.Keys.AsSpan(g * a.Capacity * hd, a.KeyLen * hd);
            v = a.Values!.AsSpan(g * a.Capacity * hd, a.KeyLen * hd);
            p = a.Probs.AsSpan(slot * T * a.KeyLen, T * a.KeyLen);
        }
        Attention.Forward(q, k, v, 1, 1, hd, T, a.KeyLen, a.KeyLen, a.Start, p, acts.Slice(_scratch.HeadOut + item * T * hd, T * hd),
            c.SlidingWindow ?? 0);
    }

    private void BackwardItem(int item)
    {
        var c = Config;
        ref readonly var a = ref _call;
        int hd = c.HeadDim, h = c.HeadCount, kv = c.KvHeadCount, group = h / kv, kvDim = kv * hd, T = a.SeqLen;
        int b = item / kv, g = item % kv, firstHead = b * h + g * group;
        var acts = _acts.AsSpan();
        var s = _scratch;
        Attention.Backward(
            acts.Slice(a.L.Qh + firstHead * T * hd, group * T * hd),
            acts.Slice(a.L.Kh + b * T * kvDim + g * T * hd, T * hd),
            acts.Slice(a.L.Vh + b * T * kvDim + g * T * hd, T * hd),
            acts.Slice(a.L.P + firstHead * T * T, group * T * T),
            acts.Slice(s.DHeadOut + firstHead * T * hd, group * T * hd),
            group, 1, hd, T, T, T,
            acts.Slice(s.DQh + firstHead * T * hd, group * T * hd),
            acts.Slice(s.DKh + b * T * kvDim + g * T * hd, T * hd),
            acts.Slice(s.DVh + b * T * kvDim + g * T * hd, T * hd),
            acts.Slice(s.DS + item * T * T, T * T));
    }
}
