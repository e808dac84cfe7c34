using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;
using System.Text.Json.Serialization;

namespace Federated.Data.Evaluation;

/// <summary>
/// A paired difference (model − base) over n examples scored for both models.
/// </summary>
/// <param name="Mean">Mean difference; for the loss the token-weighted one, so it equals loss(model) − loss(base).</param>
/// <param name="StandardError">sd/√n with the sample standard deviation (n − 1); NaN when n &lt; 2.</param>
/// <param name="T">Paired t = mean / se (n − 1 degrees of freedom); 0 when every difference is 0, ±∞ when they are
/// all equal and non-zero.</param>
/// <param name="PValue">Two-sided p-value of <see cref="T"/> under Student's t with n − 1 degrees of freedom.</param>
/// <param name="Lower95">Lower end of the 95% interval mean − t(0.975, n − 1)·se.</param>
/// <param name="Upper95">Upper end of the 95% interval mean + t(0.975, n − 1)·se.</param>
/// <param name="Count">Examples n.</param>
/// <remarks>JSON (`eval --compare`, `simulate`'s summary): {"mean", "se", "t", "p", "ci95": [lower, upper], "n"}.</remarks>
public sealed record PairedDifference(
    [property: JsonPropertyOrder(0)] double Mean,
    [property: JsonPropertyName("se"), JsonPropertyOrder(1)] double StandardError,
    [property: JsonPropertyOrder(2)] double T,
    [property: JsonPropertyName("p"), JsonPropertyOrder(3)] double PValue,
    [property: JsonIgnore] double Lower95,
    [property: JsonIgnore] double Upper95,
    [property: JsonPropertyName("n"), JsonPropertyOrder(5)] int Count)
{
    /// <summary>The 95% interval [<see cref="Lower95"/>, <see cref="Upper95"/>] (JSON "ci95").</summary>
    [JsonPropertyName("ci95"), JsonPropertyOrder(4)]
    public double[] Ci95 => [Lower95, Upper95];

    /// <summary>|mean| &gt; 2·se: the difference is larger than its noise (roughly p &lt; 0.05 at these n).</summary>
    [JsonIgnore]
    public bool Significant => Math.Abs(Mean) > 2 * StandardError;
}

/// <summary>
/// Paired statistics of two models scored on the same examples (`federated eval --compare`), with MathNet.Numerics.
/// <list type="bullet">
/// <item>Rouge-L and accuracy: d_i = score_i(model) − score_i(base), one-sample t over d (a paired t-test).</item>
/// <item>Loss: per-token weighted. With n_i response tokens and per-token mean losses l_i, b_i of example i,
/// d_i = l_i − b_i and Δ = Σ n_i d_i / Σ n_i = loss(model) − loss(base) (the aggregate losses are token-weighted).
/// Its standard error is the ratio estimator's (linearisation): e_i = Δ + (n_i/n̄)(d_i − Δ) has mean Δ and
/// se(Δ) = sd(e)/√n, so the same one-sample statistics apply to e.</item>
/// </list>
/// </summary>
public static class PairedComparison
{
    /// <summary>Statistics of the differences <paramref name="model"/>[i] − <paramref name="baseline"/>[i].</summary>
    public static PairedDifference Of(IReadOnlyList<double> model, IReadOnlyList<double> baseline)
    {
        CheckSameCount(model.Count, baseline.Count);
        var differences = new double[model.Count];
        for (int i = 0; i < differences.Length; i++) differences[i] = model[i] - baseline[i];
        return Summarize(differences);
    }

    /// <summary>Token-weighted statistics of per-example mean losses: Δ = Σ n_i (l_i − b_i) / Σ n_i with the
    /// ratio estimator's standard error (see the class summary). <paramref name="tokens"/>[i] = n_i &gt; 0.</summary>
    public static PairedDifference OfWeighted(IReadOnlyList<double> model, IReadOnlyList<double> baseline, IReadOnlyList<int> tokens)
    {
        CheckSameCount(model.Count, baseline.Count);
        CheckSameCount(model.Count, tokens.Count);
        int n = model.Count;
        if (n == 0) return Summarize([]);
        double weighted = 0, tokenSum = 0;
        for (int i = 0; i < n; i++)
        {
            if (tokens[i] <= 0) throw new ArgumentException($"Example {i} has {tokens[i]} tokens; weights must be positive.", nameof(tokens));
            weighted += tokens[i] * (model[i] - baseline[i]);
            tokenSum += tokens[i];
        }
        double delta = weighted / tokenSum, meanTokens = tokenSum / n;
        var linearised = new double[n];
        for (int i = 0; i < n; i++) linearised[i] = delta + tokens[i] / meanTokens * (model[i] - baseline[i] - delta);
        return Summarize(linearised) with { Mean = delta };
    }

    /// <summary>One-sample statistics of paired differences: mean, se = sd/√n, t = mean/se, two-sided p, 95% interval.</summary>
    public static PairedDifference Summarize(IReadOnlyList<double> differences)
    {
        int n = differences.Count;
        if (n == 0) return new PairedDifference(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        double mean = differences.Average();  // Σd/n summed in order (MathNet's running mean leaves ~1e-19 residue where Σd is exactly 0)
        if (n == 1) return new PairedDifference(mean, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 1);
        double se = differences.StandardDeviation() / Math.Sqrt(n);
        int freedom = n - 1;
        double t, p;
        if (se > 0)
        {
            t = mean / se;
            p = 2 * StudentT.CDF(0, 1, freedom, -Math.Abs(t));
        }
        else
        {
            // Every difference equal: no spread. 0/0 is read as "no difference", c/0 as a certain one.
            t = mean == 0 ? 0 : double.CopySign(double.PositiveInfinity, mean);
            p = mean == 0 ? 1 : 0;
        }
        double half = StudentT.InvCDF(0, 1, freedom, 0.975) * se;
        return new PairedDifference(mean, se, t, p, mean - half, mean + half, n);
    }

    private static void CheckSameCount(int model, int other)
    {
        if (model != other) throw new ArgumentException($"Paired statistics need the same examples: {model} scores against {other}.");
    }
}
