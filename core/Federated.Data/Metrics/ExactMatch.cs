namespace Federated.Data.Metrics;

/// <summary>Exact-match accuracy: a prediction is right when it equals the reference after trimming white space,
/// ignoring case (ordinal, invariant culture). Used for the WordNet category task.</summary>
public static class ExactMatch
{
    /// <summary>1 when the trimmed strings are equal ignoring case, else 0.</summary>
    public static double Score(string reference, string prediction)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(prediction);
        return string.Equals(reference.Trim(), prediction.Trim(), StringComparison.OrdinalIgnoreCase) ? 1 : 0;
    }

    /// <summary>Fraction of exact matches (0 for an empty list).</summary>
    public static double Accuracy(IReadOnlyList<string> references, IReadOnlyList<string> predictions)
    {
        if (references.Count != predictions.Count)
            throw new ArgumentException($"{references.Count} references but {predictions.Count} predictions.", nameof(predictions));
        if (references.Count == 0) return 0;
        double hits = 0;
        for (int i = 0; i < references.Count; i++) hits += Score(references[i], predictions[i]);
        return hits / references.Count;
    }
}
