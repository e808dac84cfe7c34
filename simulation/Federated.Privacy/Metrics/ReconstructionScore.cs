namespace Federated.Privacy.Metrics;

/// <summary>
/// How close a reconstructed batch is to the true one: token accuracy = fraction of positions with the same id
/// (sequences paired in order), Rouge-L = mean Rouge-L F-measure (rouge-score's rule, <see cref="Data.Metrics.RougeL"/>) of the
/// decoded texts, each reconstruction paired with the true sequence it scores best against (batch order is not
/// identifiable from a summed gradient).
/// </summary>
public sealed record ReconstructionScore(double TokenAccuracy, double RougeL, IReadOnlyList<string> TrueTexts, IReadOnlyList<string> ReconstructedTexts)
{
    /// <summary>Scores <paramref name="reconstruction"/> against <paramref name="truth"/>, decoding ids with <paramref name="decode"/>.</summary>
    public static ReconstructionScore Compute(IReadOnlyList<int[]> truth, IReadOnlyList<int[]> reconstruction, Func<int[], string> decode)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(reconstruction);
        ArgumentNullException.ThrowIfNull(decode);
        if (truth.Count != reconstruction.Count || truth.Count == 0)
            throw new ArgumentException($"{truth.Count} true sequences but {reconstruction.Count} reconstructed (both must be equal and non-zero).", nameof(reconstruction));
        var trueTexts = truth.Select(decode).ToArray();
        var recTexts = reconstruction.Select(decode).ToArray();
        double rouge = 0;
        foreach (var hypothesis in recTexts) rouge += trueTexts.Max(reference => Data.Metrics.RougeL.FMeasure(reference, hypothesis));
        int total = 0, equal = 0;
        for (int b = 0; b < truth.Count; b++)
        {
            total += truth[b].Length;
            for (int i = 0; i < Math.Min(truth[b].Length, reconstruction[b].Length); i++)
                if (truth[b][i] == reconstruction[b][i]) equal++;
        }
        return new ReconstructionScore(total == 0 ? 0 : (double)equal / total, rouge / recTexts.Length, trueTexts, recTexts);
    }
}
