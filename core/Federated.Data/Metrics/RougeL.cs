namespace Federated.Data.Metrics;

/// <summary>Precision, recall and F-measure of one comparison.</summary>
public readonly record struct RougeScore(double Precision, double Recall, double FMeasure);

/// <summary>
/// Rouge-L with the rule of Google's rouge-score package (<c>rouge_scorer.RougeScorer(["rougeL"])</c>, no stemmer):
/// <list type="number">
/// <item>tokenize: lowercase, replace every run of characters outside [a-z0-9] with a space, split on whitespace
/// (so "Don't" → "don", "t"; non-ASCII letters are separators);</item>
/// <item>L = length of the longest common subsequence of the token lists;</item>
/// <item>P = L / |hypothesis|, R = L / |reference|, F = 2PR / (P + R), and all three 0 when either list is empty or L = 0.</item>
/// </list>
/// Cost O(|reference|·|hypothesis|) time, O(min) memory (two DP rows).
/// </summary>
public static class RougeL
{
    /// <summary>Rouge-L F-measure of a hypothesis against a reference.</summary>
    public static double FMeasure(string reference, string hypothesis) => Score(reference, hypothesis).FMeasure;

    /// <summary>Rouge-L precision, recall and F-measure.</summary>
    public static RougeScore Score(string reference, string hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        var target = Tokenize(reference);
        var prediction = Tokenize(hypothesis);
        if (target.Count == 0 || prediction.Count == 0) return default;
        int lcs = LcsLength(target, prediction);
        if (lcs == 0) return default;
        double precision = (double)lcs / prediction.Count, recall = (double)lcs / target.Count;
        return new RougeScore(precision, recall, 2 * precision * recall / (precision + recall));
    }

    /// <summary>Mean F-measure over pairs (0 for an empty list).</summary>
    public static double MeanFMeasure(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses)
    {
        if (references.Count != hypotheses.Count)
            throw new ArgumentException($"{references.Count} references but {hypotheses.Count} hypotheses.", nameof(hypotheses));
        if (references.Count == 0) return 0;
        double sum = 0;
        for (int i = 0; i < references.Count; i++) sum += FMeasure(references[i], hypotheses[i]);
        return sum / references.Count;
    }

    /// <summary>rouge-score's tokenizer without stemming: lowercase, [^a-z0-9]+ → ' ', split.</summary>
    public static IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        int start = -1;
        var lower = text.ToLowerInvariant();
        for (int i = 0; i <= lower.Length; i++)
        {
            bool alnum = i < lower.Length && lower[i] is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (alnum && start < 0) start = i;
            else if (!alnum && start >= 0) { tokens.Add(lower[start..i]); start = -1; }
        }
        return tokens;
    }

    /// <summary>LCS length by dynamic programming: T[i][j] = T[i-1][j-1]+1 if a[i]=b[j] else max(T[i-1][j], T[i][j-1]).</summary>
    internal static int LcsLength(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal)
                    ? previous[j - 1] + 1
                    : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
