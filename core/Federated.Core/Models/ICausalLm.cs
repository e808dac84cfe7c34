namespace Federated.Core.Models;

/// <summary>
/// The seam between the engine and everything that trains or scores with it (FedKSeed, ComPEFT, the CLI).
/// A later GPU backend implements the same members. Buffers returned as spans stay valid until the next call.
/// </summary>
public interface ICausalLm : IDisposable
{
    /// <summary>Shapes and options from config.json.</summary>
    ModelConfig Config { get; }

    /// <summary>Trainable base parameters in Hugging Face named_parameters() order (a tied embedding appears once).</summary>
    IReadOnlyList<ParameterTensor> Parameters { get; }

    /// <summary>False for inference / zeroth-order steps: layers share one activation slot and Backward is refused.</summary>
    bool KeepActivationsForBackward { get; set; }

    /// <summary>Runs the model on input ids [batchSize, seqLen]; <see cref="Logits"/> then holds [batchSize, seqLen, vocab].</summary>
    void Forward(ReadOnlySpan<int> inputIds, int batchSize, int seqLen);

    /// <summary>Forward plus mean next-token cross-entropy; lossMask [batchSize, seqLen] (optional) selects which target tokens count.</summary>
    float ForwardLoss(ReadOnlySpan<int> inputIds, int batchSize, int seqLen, ReadOnlySpan<bool> lossMask = default);

    /// <summary>Logits of the last <see cref="Forward"/> (overwritten by <see cref="Backward"/>).</summary>
    ReadOnlySpan<float> Logits { get; }

    /// <summary>Per-position losses [batch, seqLen] of the last ForwardLoss (0 where not scored).</summary>
    ReadOnlySpan<float> TokenLosses { get; }

    /// <summary>Accumulates d(loss)/d(parameters) of the last <see cref="ForwardLoss"/> into the gradients.</summary>
    void Backward();

    /// <summary>Sets every gradient (base and adapter) to zero.</summary>
    void ZeroGrad();

    /// <summary>
    /// Zeroth-order perturbation in place: w[t] += scale·z(seed, t) for each listed tensor, z from the seed protocol
    /// (docs/seed-protocol.md), never stored. A backend must produce the same bits as <c>SeedNormal</c>.
    /// </summary>
    void Perturb(ulong seed, float scale, ReadOnlySpan<Seeds.SeedTensor> tensors);
}
