using Federated.Compression.Dense;
using Federated.Compression.Ternary;

namespace Federated.Client.ComPeft;

/// <summary>How a client compresses its round update Δ (docs/compeft.md §2, §4).</summary>
public sealed record ComPeftCompressionOptions
{
    /// <summary>d, fraction of Δ kept, (0, 1]. 1 (or <see cref="Uncompressed"/>) sends Δ dense as float32: plain FedAvg-LoRA. Default 0.05.</summary>
    public double Density { get; init; } = 0.05;

    /// <summary>ComPEFT α: scale = α·σ(Δ); null = the per-density default α(d).</summary>
    public double? ScaleFactor { get; init; }

    /// <summary>STC's least-squares scale ‖Δ_kept‖₁/k instead of α·σ.</summary>
    public bool LeastSquaresScale { get; init; }

    /// <summary>Error feedback: the client keeps the residual Δ + e − decode(payload) for its next round.</summary>
    public bool ErrorFeedback { get; init; }

    /// <summary>Send Δ dense as float32 (the DenseUpdateCodec), whatever the density.</summary>
    public bool Uncompressed { get; init; }

    /// <summary>True when Δ goes dense.</summary>
    public bool IsDense => Uncompressed || Density >= 1;

    public void Validate()
    {
        if (!(Density > 0 && Density <= 1)) throw new ArgumentOutOfRangeException(nameof(Density), Density, "Density must be in (0, 1].");
        if (ScaleFactor is double a && (!(a > 0) || !double.IsFinite(a)))
            throw new ArgumentOutOfRangeException(nameof(ScaleFactor), a, "ScaleFactor must be finite and > 0 (omit it for the per-density default).");
    }

    /// <summary>The ternary codec options for this compression.</summary>
    public TernaryOptions ToTernaryOptions() => new()
    {
        Density = Density,
        ScaleMode = LeastSquaresScale ? TernaryScaleMode.LeastSquares : TernaryScaleMode.SigmaMultiple,
        Alpha = ScaleFactor,
    };
}

/// <summary>
/// Turns a client's Δ into its upload payload: the ternary codec at density d (with the client's residual when error
/// feedback is on: c = Δ + e, payload = C(c), e ← c − D(payload)), or a dense float32 payload for plain FedAvg-LoRA.
/// The residual is one adapter-sized float32 vector per client, owned by the caller.
/// </summary>
public static class ComPeftUpdateEncoder
{
    /// <summary>Encodes Δ. <paramref name="residual"/> (length n) is read and updated when error feedback is on; may be null otherwise.</summary>
    public static byte[] Encode(ReadOnlySpan<float> delta, ComPeftCompressionOptions options, Span<float> residual)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.IsDense) return DenseUpdateCodec.Encode(delta);
        var ternary = options.ToTernaryOptions();
        if (!options.ErrorFeedback) return TernaryCodec.Encode(delta, ternary);
        if (residual.Length != delta.Length)
            throw new ArgumentException($"The error-feedback residual has {residual.Length} elements; the update has {delta.Length}.", nameof(residual));
        return ErrorFeedback.EncodeWithFeedback(delta, residual, ternary);
    }

    /// <summary>The uncompressed size of an update of n elements in this dense format (13 + 4n bytes).</summary>
    public static long DenseBytes(int elementCount) => DenseUpdateCodec.Size(elementCount);
}
