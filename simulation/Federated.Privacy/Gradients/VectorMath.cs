namespace Federated.Privacy.Gradients;

/// <summary>Double-accumulated dot products, norms and cosines of float vectors (the probes' similarity measures).</summary>
public static class VectorMath
{
    /// <summary>Σ a[i]·b[i], accumulated in double.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vectors of {a.Length} and {b.Length} elements.", nameof(b));
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>‖a‖₂.</summary>
    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(Dot(a, a));

    /// <summary>aᵀb / (‖a‖‖b‖), 0 when either is zero.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double na = Norm(a), nb = Norm(b);
        return na == 0 || nb == 0 ? 0 : Dot(a, b) / (na * nb);
    }
}
