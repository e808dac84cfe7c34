using System.Numerics.Tensors;
using Federated.Core.Kernels;
using Federated.Core.Lora;

namespace Federated.Core.Models;

/// <summary>
/// A projection of the model with an optional LoRA branch.
/// Linear (HF nn.Linear, W [out, in]): y = x Wᵀ + b.  Conv1D (GPT-2, W [in, out]): y = x W + b.
/// LoRA: y += ((x Aᵀ)·s) Bᵀ with A [r, in], B [out, r], s = scaling; u = (x Aᵀ)·s [rows, r] is kept for backward.
/// Time goes into the MatMul calls: rows·in·out multiply-adds for the base, rows·r·(in + out) for LoRA.
/// </summary>
internal sealed class Linear
{
    public Linear(string path, int inFeatures, int outFeatures, bool conv1D, ParameterTensor weight, ParameterTensor? bias)
    {
        Path = path;
        In = inFeatures;
        Out = outFeatures;
        Conv1D = conv1D;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>Module path, e.g. <c>model.layers.0.self_attn.q_proj</c> (parameter names add .weight / .bias).</summary>
    public string Path { get; }
    public int In { get; }
    public int Out { get; }
    public bool Conv1D { get; }
    public ParameterTensor Weight { get; }
    public ParameterTensor? Bias { get; }

    /// <summary>The attached adapter module, if any.</summary>
    public LoraModule? Lora { get; set; }

    /// <summary>Offset of u [rows, r] in the activation arena (set by the model's layout).</summary>
    public int LoraU { get; set; }

    /// <summary>y [rows, out] = base(x) (+ LoRA); x [rows, in]; acts is the activation arena (for u).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, Span<float> acts)
    {
        var w = Weight.Data;
        if (Conv1D) MatMul.AB(x, w, y, rows, In, Out);
        else MatMul.ABt(x, w, y, rows, In, Out);
        if (Bias is not null)
        {
            var b = Bias.Data;
            for (int i = 0; i < rows; i++)
            {
                var yi = y.Slice(i * Out, Out);
                TensorPrimitives.Add(yi, b, yi);
            }
        }
        if (Lora is { } lora)
        {
            int r = lora.Rank;
            var u = acts.Slice(LoraU, rows * r);
            MatMul.ABt(x, lora.A.Data, u, rows, In, r);
            TensorPrimitives.Multiply(u, lora.Scaling, u);
            MatMul.ABt(u, lora.B.Data, y, rows, r, Out, accumulate: true);
        }
    }

    /// <summary>
    /// Given dY [rows, out]: dX [rows, in] (overwritten, or added when accumulateDx); with baseGrads dW += and db +=
    /// (Linear: dW = dYᵀ x; Conv1D: dW = xᵀ dY); with LoRA dB += dYᵀ u and dA += (s·dY B)ᵀ x (skipped when A is frozen), dX += (s·dY B) A.
    /// loraScratch holds at least rows·r floats.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dY, Span<float> dX, bool accumulateDx, int rows, bool baseGrads,
        ReadOnlySpan<float> acts, Span<float> loraScratch)
    {
        var w = Weight.Data;
        if (baseGrads)
        {
            var dW = Weight.Grad;
            if (Conv1D) MatMul.AtB(x, dY, dW, In, rows, Out, accumulate: true);
            else MatMul.AtB(dY, x, dW, Out, rows, In, accumulate: true);
            if (Bias is not null)
            {
                var db = Bias.Grad;
                for (int i = 0; i < rows; i++) TensorPrimitives.Add(db, dY.Slice(i * Out, Out), db);
            }
        }
        if (Conv1D) MatMul.ABt(dY, w, dX, rows, Out, In, accumulateDx);
        else MatMul.AB(dY, w, dX, rows, Out, In, accumulateDx);
        if (Lora is { } lora)
        {
            int r = lora.Rank;
            var u = acts.Slice(LoraU, rows * r);
            var dU = loraScratch.Slice(0, rows * r);
            MatMul.AtB(dY, u, lora.B.Grad, Out, rows, r, accumulate: true);
            MatMul.AB(dY, lora.B.Data, dU, rows, Out, r);
            TensorPrimitives.Multiply(dU, lora.Scaling, dU);
            if (lora.TrainA) MatMul.AtB(dU, x, lora.A.Grad, r, rows, In, accumulate: true);
            MatMul.AB(dU, lora.A.Data, dX, rows, r, In, accumulate: true);
        }
    }
}
