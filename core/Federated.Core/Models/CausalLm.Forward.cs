using Federated.Core.Generation;
using Federated.Core.Kernels;
using System.Numerics.Tensors;

namespace Federated.Core.Models;

public sealed partial class CausalLm
{
    private float[] _acts = [];
    private int[] _ids = [];
    private int[] _targets = [];
    private int _layoutBatch = -1, _layoutSeq = -1;
    private int _batch, _seqLen, _lossCount;
    private bool _hasLoss, _logitsValid;
    private readonly Scratch _scratch;

    /// <summary>Offsets of the final stage and the shared scratch in the activation arena.</summary>
    private sealed class Scratch
    {
        public int ResOut, HFinal, NFa, NFb, Logits, RowLoss, Probs;
        public int Flat, Tmp, HeadOut, DRes, DH, DFlat, DAtt, DHeadOut, DQh, DKh, DVh, DMlpA, DMlpB, DAct, DS, NormScratch, LoraScratch, CeScratch;
    }

    /// <summary>Logits [batch, seqLen, vocab] of the last forward (Backward overwrites them with dLogits).</summary>
    public ReadOnlySpan<float> Logits => _logitsValid
        ? _acts.AsSpan(_scratch.Logits, _batch * _seqLen * Config.VocabSize)
        : throw new InvalidOperationException("No logits: run Forward first (Backward consumes them).");

    /// <summary>
    /// Whether Forward keeps every layer's activations so that <see cref="Backward"/> can run (default true).
    /// Set false for inference and zeroth-order training: all layers then share one layer's activation slots, so memory
    /// is that of one block (the attention probabilities alone are batch·heads·seqLen² floats per retained layer).
    /// </summary>
    public bool KeepActivationsForBackward
    {
        get => _keepActivations;
        set { if (value != _keepActivations) { _keepActivations = value; _layoutBatch = -1; } }
    }

    private bool _keepActivations = true, _layoutShared, _activationsRetained;

    /// <summary>
    /// Sizes the activation arena for [batchSize, seqLen] (grows only; a smaller shape reuses the arena without allocating).
    /// Call once with the largest shape to keep later calls allocation-free.
    /// </summary>
    public void EnsureCapacity(int batchSize, int seqLen) => Layout(batchSize, seqLen, !_keepActivations);

    private void Layout(int batchSize, int seqLen, bool shared)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Batch size must be positive, got {batchSize}.");
        if (seqLen <= 0 || seqLen > Config.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(seqLen), $"Sequence length {seqLen} must be in 1..{Config.MaxPositions} (the model's context length).");
        if (batchSize == _layoutBatch && seqLen == _layoutSeq && shared == _layoutShared) return;
        var c = Config;
        int n = batchSize * seqLen, d = c.Dim, hd = c.HeadDim, h = c.HeadCount, kv = c.KvHeadCount, f = c.FfnDim;
        int qDim = h * hd, kvDim = kv * hd;
        long cursor = 0;
        int Take(long size)
        {
            long at = cursor;
            cursor += (size + 15) & ~15L; // 64-byte aligned slices
            if (cursor > Array.MaxLength) throw new InvalidOperationException($"Activations for batch {batchSize} × seqLen {seqLen} exceed one arena.");
            return (int)at;
        }
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            if (shared && l > 0)
            {
                // Inference: every block reads and writes the first block's slots (its output overwrites its input
                // only after the input's last use).
                layer.CopyOffsetsFrom(_layers[0]);
                continue;
            }
            layer.ResIn = Take((long)n * d);
            layer.H1 = Take((long)n * d);
            layer.N1a = Take(n);
            layer.N1b = Take(n);
            layer.Qh = Take((long)n * qDim);
            layer.Kh = Take((long)n * kvDim);
            layer.Vh = Take((long)n * kvDim);
            layer.P = Take(shared ? 0 : (long)batchSize * h * seqLen * seqLen);
            layer.AttOut = Take((long)n * qDim);
            layer.ResMid = Take((long)n * d);
            layer.H2 = Take((long)n * d);
            layer.N2a = Take(n);
            layer.N2b = Take(n);
            layer.MlpA = Take((long)n * f);
            layer.MlpB = c.IsLlamaFamily ? Take((long)n * f) : 0;
            layer.Act = Take((long)n * f);
            foreach (var lin in layer.Linears)
                if (lin.Lora is { } lora) lin.LoraU = Take((long)n * lora.Rank);
        }
        var s = _scratch;
        int flatWidth = c.IsLlamaFamily ? qDim + 2 * kvDim : 3 * d;
        s.ResOut = shared ? _layers[0].ResIn : Take((long)n * d);
        s.HFinal = Take((long)n * d);
        s.NFa = Take(n);
        s.NFb = Take(n);
        s.Logits = Take((long)n * c.VocabSize);
        s.RowLoss = Take(n);
        s.Flat = Take((long)n * flatWidth);
        s.Tmp = Take((long)n * d);
        s.HeadOut = Take((long)n * qDim);
        s.Probs = Take(shared ? (long)Math.Min(_threads, batchSize * h) * seqLen * seqLen : 0);
        int nb = shared ? 0 : n, tb = shared ? 0 : seqLen; // backward-only buffers are empty in inference layout
        s.DRes = Take((long)nb * d);
        s.DH = Take((long)nb * d);
        s.DFlat = Take((long)nb * flatWidth);
        s.DAtt = Take((long)nb * qDim);
        s.DHeadOut = Take((long)nb * qDim);
        s.DQh = Take((long)nb * qDim);
        s.DKh = Take((long)nb * kvDim);
        s.DVh = Take((long)nb * kvDim);
        s.DMlpA = Take((long)nb * f);
        s.DMlpB = Take((long)nb * f);
        s.DAct = Take((long)nb * f);
        s.DS = Take((long)batchSize * kv * tb * seqLen);
        s.NormScratch = Take(2L * d);
        s.LoraScratch = Take((long)nb * _maxLoraRank);
        s.CeScratch = Take(c.VocabSize);
        // Grow by at least half: batch-1 steps see ever longer sequences, and growing to each new length exactly
        // leaves one dead arena per length for the GC (large-object heap, only reclaimed by a full collection).
        if (_acts.Length < cursor) _acts = new float[Math.Min(Array.MaxLength, Math.Max(cursor, _acts.Length + _acts.Length / 2))];
        if (_ids.Length < n) { _ids = new int[n]; _targets = new int[n]; }
        _layoutBatch = batchSize;
        _layoutSeq = seqLen;
        _layoutShared = shared;
        _logitsValid = false;
        _hasLoss = false;
    }

    /// <summary>Runs the model on inputIds [batchSize, seqLen]; logits land in <see cref="Logits"/>.</summary>
    public void Forward(ReadOnlySpan<int> inputIds, int batchSize, int seqLen)
    {
        if (inputIds.Length != batchSize * seqLen)
            throw new ArgumentException($"inputIds has {inputIds.Length} ids, expected batchSize {batchSize} × seqLen {seqLen}.", nameof(inputIds));
        EnsureCapacity(batchSize, seqLen);
        _activationsRetained = !_layoutShared;
        _batch = batchSize;
        _seqLen = seqLen;
        _hasLoss = false;
        int n = batchSize * seqLen, d = Config.Dim;
        inputIds.CopyTo(_ids);
        var acts = _acts.AsSpan();
        var x = acts.Slice(_layers[0].ResIn, n * d);
        Embedding.Forward(inputIds, _embed.Data, d, x);
        if (_positions is not null) Embedding.AddPositions(_positions.Data, batchSize, seqLen, d, 0, x);
        for (int l = 0; l < _layers.Length; l++)
        {
            var output = l + 1 < _layers.Length ? acts.Slice(_layers[l + 1].ResIn, n * d) : acts.Slice(_scratch.ResOut, n * d);
            LayerForward(_layers[l], batchSize, seqLen, output, null, l);
        }
        var s = _scratch;
        FinalNorm(acts.Slice(s.ResOut, n * d), acts.Slice(s.HFinal, n * d), acts.Slice(s.NFa, n), acts.Slice(s.NFb, n));
        MatMul.ABt(acts.Slice(s.HFinal, n * d), _lmHead.Data, acts.Slice(s.Logits, n * Config.VocabSize), n, d, Config.VocabSize);
        _logitsValid = true;
    }

    /// <summary>
    /// Per-position cross-entropy [batch, seqLen] of the last <see cref="Loss"/>/<see cref="ForwardLoss"/> (0 where the
    /// target is ignored): −log p(target | prefix). Sum a row for a sequence's negative log-likelihood (scoring,
    /// membership-inference probes).
    /// </summary>
    public ReadOnlySpan<float> TokenLosses => _hasLoss
        ? _acts.AsSpan(_scratch.RowLoss, _batch * _seqLen)
        : throw new InvalidOperationException("No token losses: run Loss or ForwardLoss first.");

    /// <summary>Mean cross-entropy of the last forward's logits against targets [batch, seqLen] (<see cref="IgnoreIndex"/> skips a row).</summary>
    public float Loss(ReadOnlySpan<int> targets)
    {
        int n = _batch * _seqLen;
        if (!_logitsValid) throw new InvalidOperationException("Loss needs the logits of a Forward call.");
        if (targets.Length != n) throw new ArgumentException($"targets has {targets.Length} entries, expected {n}.", nameof(targets));
        targets.CopyTo(_targets);
        var acts = _acts.AsSpan();
        var (loss, count) = SoftmaxCrossEntropy.Forward(acts.Slice(_scratch.Logits, n * Config.VocabSize), targets, Config.VocabSize, IgnoreIndex,
            acts.Slice(_scratch.RowLoss, n), acts.Slice(_scratch.CeScratch, Config.VocabSize));
        _lossCount = count;
        _hasLoss = true;
        return loss;
    }

    /// <summary>
    /// Forward plus transformers' causal-LM loss with labels = inputIds: target of position t is id t+1 (last position unscored);
    /// with lossMask [batch, seqLen] a target token counts only where the mask is true (e.g. response tokens only).
    /// </summary>
    public float ForwardLoss(ReadOnlySpan<int> inputIds, int batchSize, int seqLen, ReadOnlySpan<bool> lossMask = default)
    {
        if (!lossMask.IsEmpty && lossMask.Length != batchSize * seqLen)
            throw new ArgumentException($"lossMask has {lossMask.Length} entries, expected {batchSize * seqLen}.", nameof(lossMask));
        Forward(inputIds, batchSize, seqLen);
        var targets = _targets.AsSpan(0, batchSize * seqLen);
        CausalTargets(inputIds, batchSize, seqLen, lossMask, targets);
        return Loss(targets);
    }

    /// <summary>targets[b, t] = ids[b, t+1] where t+1 &lt; seqLen and (no mask or mask[b, t+1]); otherwise <see cref="IgnoreIndex"/>.</summary>
    public static void CausalTargets(ReadOnlySpan<int> inputIds, int batchSize, int seqLen, ReadOnlySpan<bool> lossMask, Span<int> targets)
    {
        for (int b = 0; b < batchSize; b++)
        for (int t = 0; t < seqLen; t++)
        {
            int i = b * seqLen + t;
            targets[i] = t + 1 < seqLen && (lossMask.IsEmpty || lossMask[i + 1]) ? inputIds[i + 1] : IgnoreIndex;
        }
    }

    /// <summary>
    /// Incremental forward for generation (batch 1): runs tokens at positions cache.Length.., appends their keys and values
    /// to the cache, and writes the last position's logits [vocab] into <paramref name="lastLogits"/>.
    /// </summary>
    public void ForwardCached(ReadOnlySpan<int> tokens, KvCache cache, Span<float> lastLogits)
    {
        int tq = tokens.Length, start = cache.Length, d = Config.Dim;
        if (tq == 0) throw new ArgumentException("ForwardCached needs at least one token.", nameof(tokens));
        if (start + tq > cache.Capacity)
            throw new ArgumentException($"{start + tq} positions exceed the KV cache capacity of {cache.Capacity}.", nameof(tokens));
        if (lastLogits.Length != Config.VocabSize) throw new ArgumentException($"lastLogits must hold {Config.VocabSize} floats.", nameof(lastLogits));
        Layout(1, tq, shared: true);
        _logitsValid = false;
        _hasLoss = false;
        var acts = _acts.AsSpan();
        var x = acts.Slice(_layers[0].ResIn, tq * d);
        Embedding.Forward(tokens, _embed.Data, d, x);
        if (_positions is not null) Embedding.AddPositions(_positions.Data, 1, tq, d, start, x);
        for (int l = 0; l < _layers.Length; l++)
        {
            var output = l + 1 < _layers.Length ? acts.Slice(_layers[l + 1].ResIn, tq * d) : acts.Slice(_scratch.ResOut, tq * d);
            LayerForward(_layers[l], 1, tq, output, cache, l);
        }
        cache.Length = start + tq;
        var s = _scratch;
        var last = acts.Slice(s.ResOut + (tq - 1) * d, d);
        var h = acts.Slice(s.HFinal, d);
        FinalNorm(last, h, acts.Slice(s.NFa, 1), acts.Slice(s.NFb, 1));
        MatMul.ABt(h, _lmHead.Data, lastLogits, 1, d, Config.VocabSize);
    }

    private void FinalNorm(ReadOnlySpan<float> x, Span<float> y, Span<float> a, Span<float> b)
    {
        if (Config.IsLlamaFamily) RmsNorm.Forward(x, _finalNormWeight.Data, Config.NormEps, y, a);
        else LayerNorm.Forward(x, _finalNormWeight.Data, _finalNormBias!.Data, Config.NormEps, y, a, b);
    }

    private void Norm(ParameterTensor w, ParameterTensor? b, ReadOnlySpan<float> x, Span<float> y, Span<float> na, Span<float> nb)
    {
        if (Config.IsLlamaFamily) RmsNorm.Forward(x, w.Data, Config.NormEps, y, na);
        else LayerNorm.Forward(x, w.Data, b!.Data, Config.NormEps, y, na, nb);
    }

    /// <summary>
    /// One block: h = norm1(x); attention (keys/values into the layer's activations, or appended to the cache);
    /// m = x + o_proj(attn); h2 = norm2(m); output = m + mlp(h2).
    /// </summary>
    private void LayerForward(Layer L, int batchSize, int seqLen, Span<float> output, KvCache? cache, int layerIndex)
    {
        var c = Config;
        var acts = _acts.AsSpan();
        var s = _scratch;
        int n = batchSize * seqLen, d = c.Dim, hd = c.HeadDim, h = c.HeadCount, kv = c.KvHeadCount, f = c.FfnDim;
        int qDim = h * hd, kvDim = kv * hd;
        var x = acts.Slice(L.ResIn, n * d);
        var h1 = acts.Slice(L.H1, n * d);
        Norm(L.Norm1Weight, L.Norm1Bias, x, h1, acts.Slice(L.N1a, n), acts.Slice(L.N1b, n));

        int flatWidth = c.IsLlamaFamily ? qDim + 2 * kvDim : 3 * d;
        var flat = acts.Slice(s.Flat, n * flatWidth);
        if (c.IsLlamaFamily)
        {
            L.Q.Forward(h1, flat.Slice(0, n * qDim), n, acts);
            L.K!.Forward(h1, flat.Slice(n * qDim, n * kvDim), n, acts);
            L.V!.Forward(h1, flat.Slice(n * (qDim + kvDim), n * kvDim), n, acts);
        }
        else L.Q.Forward(h1, flat, n, acts);

        int start = cache?.Length ?? 0;
        for (int b = 0; b < batchSize; b++)
        {
            var qh = acts.Slice(L.Qh + b * seqLen * qDim, seqLen * qDim);
            Span<float> kh, vh;
            int capacity;
            if (cache is null)
            {
                kh = acts.Slice(L.Kh + b * seqLen * kvDim, seqLen * kvDim);
                vh = acts.Slice(L.Vh + b * seqLen * kvDim, seqLen * kvDim);
                capacity = seqLen;
            }
            else
            {
                kh = cache.Keys(layerIndex);
                vh = cache.Values(layerIndex);
                capacity = cache.Capacity;
            }
            if (c.IsLlamaFamily)
            {
                Rope.Forward(flat.Slice(b * seqLen * qDim, seqLen * qDim), _ropeCos, _ropeSin, seqLen, h, hd, start, 0, seqLen, qh);
                Rope.Forward(flat.Slice(n * qDim + b * seqLen * kvDim, seqLen * kvDim), _ropeCos, _ropeSin, seqLen, kv, hd, start, start, capacity, kh);
                Heads.ToHeadMajor(flat.Slice(n * (qDim + kvDim) + b * seqLen * kvDim, seqLen * kvDim), kvDim, 0, seqLen, kv, hd, start, capacity, vh);
            }
            else
            {
                var rows = flat.Slice(b * seqLen * 3 * d, seqLen * 3 * d);
                Heads.ToHeadMajor(rows, 3 * d, 0, seqLen, h, hd, 0, seqLen, qh);
                Heads.ToHeadMajor(rows, 3 * d, d, seqLen, kv, hd, start, capacity, kh);
                Heads.ToHeadMajor(rows, 3 * d, 2 * d, seqLen, kv, hd, start, capacity, vh);
            }
        }
        AttentionForward(L, batchSize, seqLen, start, cache, layerIndex);
        for (int b = 0; b < batchSize; b++)
            Heads.FromHeadMajor(acts.Slice(s.HeadOut + b * seqLen * qDim, seqLen * qDim), seqLen, h, hd, 0, seqLen, qDim, 0,
                acts.Slice(L.AttOut + b * seqLen * qDim, seqLen * qDim));

        var tmp = acts.Slice(s.Tmp, n * d);
        var mid = acts.Slice(L.ResMid, n * d);
        L.O.Forward(acts.Slice(L.AttOut, n * qDim), tmp, n, acts);
        TensorPrimitives.Add(x, tmp, mid);
        var h2 = acts.Slice(L.H2, n * d);
        Norm(L.Norm2Weight, L.Norm2Bias, mid, h2, acts.Slice(L.N2a, n), acts.Slice(L.N2b, n));
        var a = acts.Slice(L.MlpA, n * f);
        var act = acts.Slice(L.Act, n * f);
        if (c.IsLlamaFamily)
        {
            var u = acts.Slice(L.MlpB, n * f);
            L.Gate!.Forward(h2, a, n, acts);
            L.Up.Forward(h2, u, n, acts);
            SwiGlu.Forward(a, u, act);
        }
        else
        {
            L.Up.Forward(h2, a, n, acts);
            GeluNew.Forward(a, act);
        }
        L.Down.Forward(act, tmp, n, acts);
        TensorPrimitives.Add(mid, tmp, output);
    }
}
