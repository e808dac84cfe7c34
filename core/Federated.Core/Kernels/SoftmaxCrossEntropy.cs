using System.Numerics.Tensors;

namespace Federated.Core.Kernels;

/// <summary>
/// Mean cross-entropy over rows whose target is not the ignore index:
/// L = (1/N) Σ_n [logsumexp(z_n) − z_n[y_n]];  dz_n = (softmax(z_n) − onehot(y_n)) · dLoss / N (0 for ignored rows).
/// </summary>
internal static class SoftmaxCrossEntropy
{
    /// <summary>logits [rows, vocab], targets [rows]; rowLoss [rows] gets each row's loss (0 when ignored). Returns (mean, count).</summary>
    public static (float Loss, int Count) Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocabSize, int ignoreIndex,
        Span<float> rowLoss, Span<float> scratch)
    {
        double total = 0;
        int count = 0;
        var e = scratch.Slice(0, vocabSize);
        for (int n = 0; n < targets.Length; n++)
        {
            int y = targets[n];
            if (y == ignoreIndex) { rowLoss[n] = 0; continue; }
            if ((uint)y >= (uint)vocabSize) throw new ArgumentOutOfRangeException(nameof(targets), $"Target id {y} at row {n} is outside the vocabulary of {vocabSize}.");
            var z = logits.Slice(n * vocabSize, vocabSize);
            float max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, e);
            TensorPrimitives.Exp(e, e);
            float lse = max + MathF.Log(TensorPrimitives.Sum(e));
            float l = lse - z[y];
            rowLoss[n] = l;
            total += l;
            count++;
        }
        return (count == 0 ? 0f : (float)(total / count), count);
    }

    /// <summary>Turns logits into dLogits in place (see class summary); dLoss is the upstream gradient of the mean.</summary>
    public static void BackwardInPlace(Span<float> logits, ReadOnlySpan<int> targets, int vocabSize, int ignoreIndex, int count, float dLoss)
    {
        float scale = count == 0 ? 0f : dLoss / count;
        for (int n = 0; n < targets.Length; n++)
        {
            var z = logits.Slice(n * vocabSize, vocabSize);
            int y = targets[n];
            if (y == ignoreIndex) { z.Clear(); continue; }
            float max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, z);
            TensorPrimitives.Exp(z, z);
            float sum = TensorPrimitives.Sum(z);
            TensorPrimitives.Multiply(z, scale / sum, z);
            z[y] -= scale;
        }
    }
}
