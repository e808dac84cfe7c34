using Federated.Core.Kernels;

namespace Federated.Core.Models;

public sealed partial class CausalLm
{
    /// <summary>
    /// Backpropagates the mean loss of the last <see cref="Loss"/>/<see cref="ForwardLoss"/>: accumulates base gradients
    /// (when <see cref="TrainBaseWeights"/>; a tied embedding gets both its lookup and output-projection gradient) and
    /// adapter gradients (when an adapter is attached). Consumes the logits (they become dLogits).
    /// </summary>
    public void Backward()
    {
        if (!_hasLoss || !_logitsValid) throw new InvalidOperationException("Backward needs a Forward followed by Loss (or ForwardLoss).");
        if (!_activationsRetained)
            throw new InvalidOperationException("Backward needs the activations of every layer: set KeepActivationsForBackward = true before the forward.");
        bool baseGrads = TrainBaseWeights;
        if (baseGrads) EnableGradients();
        var c = Config;
        int n = _batch * _seqLen, d = c.Dim, v = c.VocabSize;
        var acts = _acts.AsSpan();
        var s = _scratch;
        var dLogits = acts.Slice(s.Logits, n * v);
        SoftmaxCrossEntropy.BackwardInPlace(dLogits, _targets.AsSpan(0, n), v, IgnoreIndex, _lossCount, 1f);
        _logitsValid = false;
        _hasLoss = false;

        var hFinal = acts.Slice(s.HFinal, n * d);
        var dH = acts.Slice(s.DH, n * d);
        var dRes = acts.Slice(s.DRes, n * d);
        MatMul.AB(dLogits, _lmHead.Data, dH, n, v, d);
        if (baseGrads) MatMul.AtB(dLogits, hFinal, _lmHead.Grad, v, n, d, accumulate: true);
        dRes.Clear();
        var normScratch = acts.Slice(s.NormScratch, 2 * d);
        var resOut = acts.Slice(s.ResOut, n * d);
        if (c.IsLlamaFamily)
            RmsNorm.Backward(resOut, _finalNormWeight.Data, acts.Slice(s.NFa, n), dH, dRes, baseGrads ? _finalNormWeight.Grad : default, normScratch);
        else
            LayerNorm.Backward(resOut, _finalNormWeight.Data, acts.Slice(s.NFa, n), acts.Slice(s.NFb, n), dH, dRes,
                baseGrads ? _finalNormWeight.Grad : default, baseGrads ? _finalNormBias!.Grad : default, normScratch);

        for (int l = _layers.Length - 1; l >= 0; l--) LayerBackward(_layers[l], baseGrads);

        if (baseGrads)
        {
            Embedding.Backward(_ids.AsSpan(0, n), dRes, d, _embed.Grad);
            if (_positions is not null) Embedding.AddPositionsBackward(dRes, _batch, _seqLen, d, _positions.Grad);
        }
    }

    /// <summary>Reverse of <see cref="LayerForward"/>. On entry dRes = dL/d(layer output); on exit dRes = dL/d(layer input).</summary>
    private void LayerBackward(Layer L, bool baseGrads)
    {
        var c = Config;
        var acts = _acts.AsSpan();
        var s = _scratch;
        int B = _batch, T = _seqLen, n = B * T, d = c.Dim, hd = c.HeadDim, h = c.HeadCount, kv = c.KvHeadCount, f = c.FfnDim;
        int qDim = h * hd, kvDim = kv * hd;
        var dRes = acts.Slice(s.DRes, n * d);
        var dH = acts.Slice(s.DH, n * d);
        var loraScratch = acts.Slice(s.LoraScratch);
        var normScratch = acts.Slice(s.NormScratch, 2 * d);

        // MLP: output = mid + Down(act(h2))
        var h2 = acts.Slice(L.H2, n * d);
        var a = acts.Slice(L.MlpA, n * f);
        var act = acts.Slice(L.Act, n * f);
        var dAct = acts.Slice(s.DAct, n * f);
        var dA = acts.Slice(s.DMlpA, n * f);
        L.Down.Backward(act, dRes, dAct, false, n, baseGrads, acts, loraScratch);
        if (c.IsLlamaFamily)
        {
            var u = acts.Slice(L.MlpB, n * f);
            var dU = acts.Slice(s.DMlpB, n * f);
            SwiGlu.Backward(a, u, dAct, dA, dU);
            L.Gate!.Backward(h2, dA, dH, false, n, baseGrads, acts, loraScratch);
            L.Up.Backward(h2, dU, dH, true, n, baseGrads, acts, loraScratch);
        }
        else
        {
            GeluNew.Backward(a, dAct, dA);
            L.Up.Backward(h2, dA, dH, false, n, baseGrads, acts, loraScratch);
        }
        var mid = acts.Slice(L.ResMid, n * d);
        NormBackward(L.Norm2Weight, L.Norm2Bias, mid, acts.Slice(L.N2a, n), acts.Slice(L.N2b, n), dH, dRes, baseGrads, normScratch);

        // Attention: mid = x + O(attOut)
        var dAtt = acts.Slice(s.DAtt, n * qDim);
        L.O.Backward(acts.Slice(L.AttOut, n * qDim), dRes, dAtt, false, n, baseGrads, acts, loraScratch);
        int flatWidth = c.IsLlamaFamily ? qDim + 2 * kvDim : 3 * d;
        var dFlat = acts.Slice(s.DFlat, n * flatWidth);
        var dHeadOut = acts.Slice(s.DHeadOut, T * qDim);
        var dQh = acts.Slice(s.DQh, T * qDim);
        var dKh = acts.Slice(s.DKh, T * kvDim);
        var dVh = acts.Slice(s.DVh, T * kvDim);
        var dS = acts.Slice(s.DS, T * T);
        for (int b = 0; b < B; b++)
        {
            var qh = acts.Slice(L.Qh + b * T * qDim, T * qDim);
            var kh = acts.Slice(L.Kh + b * T * kvDim, T * kvDim);
            var vh = acts.Slice(L.Vh + b * T * kvDim, T * kvDim);
            var probs = acts.Slice(L.P + b * h * T * T, h * T * T);
            Heads.ToHeadMajor(dAtt.Slice(b * T * qDim, T * qDim), qDim, 0, T, h, hd, 0, T, dHeadOut);
            Attention.Backward(qh, kh, vh, probs, dHeadOut, h, kv, hd, T, T, T, dQh, dKh, dVh, dS);
            if (c.IsLlamaFamily)
            {
                Rope.Backward(dQh, _ropeCos, _ropeSin, T, h, hd, 0, 0, T, dFlat.Slice(b * T * qDim, T * qDim));
                Rope.Backward(dKh, _ropeCos, _ropeSin, T, kv, hd, 0, 0, T, dFlat.Slice(n * qDim + b * T * kvDim, T * kvDim));
                Heads.FromHeadMajor(dVh, T, kv, hd, 0, T, kvDim, 0, dFlat.Slice(n * (qDim + kvDim) + b * T * kvDim, T * kvDim));
            }
            else
            {
                var rows = dFlat.Slice(b * T * 3 * d, T * 3 * d);
                Heads.FromHeadMajor(dQh, T, h, hd, 0, T, 3 * d, 0, rows);
                Heads.FromHeadMajor(dKh, T, kv, hd, 0, T, 3 * d, d, rows);
                Heads.FromHeadMajor(dVh, T, kv, hd, 0, T, 3 * d, 2 * d, rows);
            }
        }
        var h1 = acts.Slice(L.H1, n * d);
        if (c.IsLlamaFamily)
        {
            L.Q.Backward(h1, dFlat.Slice(0, n * qDim), dH, false, n, baseGrads, acts, loraScratch);
            L.K!.Backward(h1, dFlat.Slice(n * qDim, n * kvDim), dH, true, n, baseGrads, acts, loraScratch);
            L.V!.Backward(h1, dFlat.Slice(n * (qDim + kvDim), n * kvDim), dH, true, n, baseGrads, acts, loraScratch);
        }
        else L.Q.Backward(h1, dFlat, dH, false, n, baseGrads, acts, loraScratch);
        var x = acts.Slice(L.ResIn, n * d);
        NormBackward(L.Norm1Weight, L.Norm1Bias, x, acts.Slice(L.N1a, n), acts.Slice(L.N1b, n), dH, dRes, baseGrads, normScratch);
    }

    private void NormBackward(ParameterTensor w, ParameterTensor? b, ReadOnlySpan<float> x, ReadOnlySpan<float> na, ReadOnlySpan<float> nb,
        ReadOnlySpan<float> dY, Span<float> dX, bool baseGrads, Span<float> scratch)
    {
        if (Config.IsLlamaFamily) RmsNorm.Backward(x, w.Data, na, dY, dX, baseGrads ? w.Grad : default, scratch);
        else LayerNorm.Backward(x, w.Data, na, nb, dY, dX, baseGrads ? w.Grad : default, baseGrads ? b!.Grad : default, scratch);
    }
}
