namespace Federated.Privacy.Metrics;

/// <summary>
/// Bag-of-tokens overlap of a recovered token set with the true one (set semantics, duplicates ignored):
/// precision = |R ∩ T| / |R|, recall = |R ∩ T| / |T|, F1 = 2PR / (P + R); each 0 when its denominator is 0.
/// </summary>
/// <param name="ChanceRecall">Recall of |R| tokens drawn uniformly from a vocabulary of <c>vocabSize</c> (= |R| / vocab), or NaN when unknown.</param>
public sealed record TokenSetScore(double Precision, double Recall, double F1, int Correct, int RecoveredCount, int TrueCount, double ChanceRecall)
{
    /// <summary>Scores <paramref name="recovered"/> against <paramref name="truth"/>; pass the vocabulary size to get the chance rate.</summary>
    public static TokenSetScore Compute(IEnumerable<int> recovered, IEnumerable<int> truth, int vocabSize = 0)
    {
        ArgumentNullException.ThrowIfNull(recovered);
        ArgumentNullException.ThrowIfNull(truth);
        var r = recovered.ToHashSet();
        var t = truth.ToHashSet();
        int correct = r.Count(t.Contains);
        double precision = r.Count == 0 ? 0 : (double)correct / r.Count;
        double recall = t.Count == 0 ? 0 : (double)correct / t.Count;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        double chance = vocabSize > 0 ? Math.Min(1.0, (double)r.Count / vocabSize) : double.NaN;
        return new TokenSetScore(precision, recall, f1, correct, r.Count, t.Count, chance);
    }
}
