namespace Federated.Privacy.Metrics;

/// <summary>How well a score separates positives (members, present tokens) from negatives.</summary>
/// <param name="Auc">Area under the ROC curve: P(s⁺ &gt; s⁻) + ½·P(s⁺ = s⁻); 0.5 is chance, 1 perfect.</param>
/// <param name="TprAtFpr">Highest true-positive rate over thresholds whose false-positive rate is ≤ <paramref name="TargetFpr"/>.</param>
/// <param name="TargetFpr">The false-positive budget of <paramref name="TprAtFpr"/> (e.g. 0.01).</param>
/// <param name="Positives">Number of positive scores.</param>
/// <param name="Negatives">Number of negative scores.</param>
public sealed record RocResult(double Auc, double TprAtFpr, double TargetFpr, int Positives, int Negatives);

/// <summary>
/// ROC statistics of an attack score (higher = "positive"). AUC is the Mann-Whitney statistic with tied scores
/// counted one half: AUC = (R⁺ − n⁺(n⁺+1)/2) / (n⁺n⁻), R⁺ the sum of the positives' mid-ranks in the pooled sample.
/// TPR at FPR uses the decision "positive iff score ≥ t" over every distinct threshold t (and t = +∞).
/// Cost O((n⁺ + n⁻) log(n⁺ + n⁻)).
/// </summary>
public static class RocCurve
{
    /// <summary>AUC and TPR at <paramref name="targetFpr"/> of the two score samples.</summary>
    public static RocResult Evaluate(ReadOnlySpan<double> positiveScores, ReadOnlySpan<double> negativeScores, double targetFpr = 0.01) =>
        new(Auc(positiveScores, negativeScores), TprAtFpr(positiveScores, negativeScores, targetFpr), targetFpr,
            positiveScores.Length, negativeScores.Length);

    /// <summary>Mann-Whitney AUC with ties counted ½.</summary>
    /// <exception cref="ArgumentException">A sample is empty or holds NaN.</exception>
    public static double Auc(ReadOnlySpan<double> positiveScores, ReadOnlySpan<double> negativeScores)
    {
        var pooled = Pool(positiveScores, negativeScores);
        double positiveRankSum = 0;
        int i = 0;
        while (i < pooled.Length)
        {
            int j = i;
            while (j + 1 < pooled.Length && pooled[j + 1].Score == pooled[i].Score) j++;
            double midRank = (i + j) / 2.0 + 1;          // ranks are 1-based; a tie group shares its mean rank
            for (int k = i; k <= j; k++) if (pooled[k].Positive) positiveRankSum += midRank;
            i = j + 1;
        }
        double p = positiveScores.Length, n = negativeScores.Length;
        return (positiveRankSum - p * (p + 1) / 2) / (p * n);
    }

    /// <summary>Highest TPR among thresholds with FPR ≤ <paramref name="targetFpr"/> (0 when only t = +∞ qualifies).</summary>
    public static double TprAtFpr(ReadOnlySpan<double> positiveScores, ReadOnlySpan<double> negativeScores, double targetFpr)
    {
        if (!(targetFpr >= 0 && targetFpr <= 1)) throw new ArgumentOutOfRangeException(nameof(targetFpr), targetFpr, "The false-positive rate must be in [0, 1].");
        var pooled = Pool(positiveScores, negativeScores);
        double p = positiveScores.Length, n = negativeScores.Length, best = 0;
        int truePositives = 0, falsePositives = 0, i = pooled.Length - 1;
        while (i >= 0)
        {
            // Lower the threshold to the next distinct score (descending): the whole tie group becomes positive.
            int j = i;
            while (j - 1 >= 0 && pooled[j - 1].Score == pooled[i].Score) j--;
            for (int k = j; k <= i; k++) { if (pooled[k].Positive) truePositives++; else falsePositives++; }
            if (falsePositives / n <= targetFpr) best = Math.Max(best, truePositives / p);
            i = j - 1;
        }
        return best;
    }

    private static (double Score, bool Positive)[] Pool(ReadOnlySpan<double> positives, ReadOnlySpan<double> negatives)
    {
        if (positives.IsEmpty) throw new ArgumentException("There are no positive scores.", nameof(positives));
        if (negatives.IsEmpty) throw new ArgumentException("There are no negative scores.", nameof(negatives));
        var pooled = new (double Score, bool Positive)[positives.Length + negatives.Length];
        for (int i = 0; i < positives.Length; i++) pooled[i] = (positives[i], true);
        for (int i = 0; i < negatives.Length; i++) pooled[positives.Length + i] = (negatives[i], false);
        foreach (var (score, _) in pooled)
            if (double.IsNaN(score)) throw new ArgumentException("A score is NaN.", nameof(positives));
        Array.Sort(pooled, static (a, b) => a.Score.CompareTo(b.Score));
        return pooled;
    }
}
