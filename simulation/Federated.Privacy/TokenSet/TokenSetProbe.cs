using Federated.Data.Training;
using Federated.Privacy.Gradients;

namespace Federated.Privacy.TokenSet;

/// <summary>Options of <see cref="TokenSetProbe.FromUpdate"/>.</summary>
public sealed record TokenSetOptions
{
    /// <summary>How many tokens to report; null = estimated as the largest gap in the sorted scores within <see cref="MaxSetSize"/>.</summary>
    public int? SetSize { get; init; }

    /// <summary>Upper bound of the estimated set size. Default 64.</summary>
    public int MaxSetSize { get; init; } = 64;

    /// <summary>Tokens to score (e.g. without special tokens); null = the whole vocabulary.</summary>
    public IReadOnlyList<int>? CandidateTokens { get; init; }

    public void Validate()
    {
        if (SetSize is < 1) throw new ArgumentOutOfRangeException(nameof(SetSize), SetSize, "SetSize must be at least 1 (or null to estimate it).");
        if (MaxSetSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxSetSize), MaxSetSize, "MaxSetSize must be at least 1.");
        if (CandidateTokens is { Count: 0 }) throw new ArgumentOutOfRangeException(nameof(CandidateTokens), "CandidateTokens is empty.");
    }
}

/// <summary>A ranked guess of the tokens in the client's batch.</summary>
/// <param name="Recovered">The reported set (the top of <paramref name="Ranking"/>), ascending ids.</param>
/// <param name="Ranking">Every candidate token, most likely first.</param>
/// <param name="Scores">Score of each entry of <paramref name="Ranking"/> (same order; higher = more likely present).</param>
/// <param name="Method">"footprint-cosine" or "embedding-rows".</param>
public sealed record TokenSetResult(int[] Recovered, int[] Ranking, double[] Scores, string Method);

/// <summary>
/// Token-set leakage (Melis et al. 2019; research note §1.5, §1.8): which tokens were in the batch behind an update?
/// <para><b>Footprint cosine</b> (any first-order update, e.g. FFA-LoRA's B): for each candidate token v the server
/// computes the footprint f_v = g([v, v]), the gradient of the two-token sequence "v v" with v the scored target
/// (v is then both an input and a target, as it is in the client's text). With f̄ the mean footprint over the
/// candidates, the score is s_v = cos(−Δ, f_v − f̄): how much the observed update u = −Δ (∝ the client's gradient
/// after one SGD step) leans towards v's own direction beyond the direction every token shares. The top-k tokens are
/// reported. Two passes over the candidates (the mean, then the scores), so memory is O(update) and time is
/// 2·|candidates|·(forward + backward) of two tokens.</para>
/// <para><b>Embedding rows</b> (an update that contains an untied input embedding): rows of tokens that were not an
/// input get exactly zero gradient, so the non-zero rows are the set (every input token except one that only occurs
/// last in its sequence).</para>
/// </summary>
public static class TokenSetProbe
{
    /// <summary>Ranks every candidate token by footprint cosine with <paramref name="update"/> (the client's Δ in the oracle's layout).</summary>
    public static TokenSetResult FromUpdate(GradientOracle oracle, ReadOnlySpan<float> update, TokenSetOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        options ??= new TokenSetOptions();
        options.Validate();
        if (update.Length != oracle.ElementCount) throw new ArgumentException($"The update has {update.Length} elements; the oracle's layout has {oracle.ElementCount}.", nameof(update));
        int vocab = oracle.Model.Config.VocabSize;
        var candidates = options.CandidateTokens?.ToArray() ?? [.. Enumerable.Range(0, vocab)];
        foreach (int v in candidates)
            if ((uint)v >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(options), v, $"Candidate token {v} is outside the vocabulary of {vocab}.");

        var u = new float[update.Length];
        for (int i = 0; i < u.Length; i++) u[i] = -update[i];
        int n = oracle.ElementCount;
        var footprint = new float[n];
        var mean = new double[n];
        foreach (int v in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Footprint(oracle, v, footprint);
            for (int i = 0; i < n; i++) mean[i] += footprint[i];
        }
        var meanF = new float[n];
        for (int i = 0; i < n; i++) meanF[i] = (float)(mean[i] / candidates.Length);

        var scores = new double[candidates.Length];
        for (int c = 0; c < candidates.Length; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Footprint(oracle, candidates[c], footprint);
            for (int i = 0; i < n; i++) footprint[i] -= meanF[i];
            scores[c] = VectorMath.Cosine(u, footprint);
        }
        return Rank(candidates, scores, options, "footprint-cosine");
    }

    /// <summary>
    /// Tokens whose row of the input-embedding update [vocabSize, dim] has a norm above
    /// <paramref name="relativeThreshold"/> × the largest row norm (exactly-zero rows are tokens that were never an input).
    /// </summary>
    public static TokenSetResult FromEmbeddingUpdate(ReadOnlySpan<float> embeddingUpdate, int vocabSize, int dim, double relativeThreshold = 1e-6)
    {
        if (vocabSize < 1 || dim < 1 || (long)vocabSize * dim != embeddingUpdate.Length)
            throw new ArgumentException($"The embedding update has {embeddingUpdate.Length} elements, not vocabSize·dim = {(long)vocabSize * dim}.", nameof(embeddingUpdate));
        if (!(relativeThreshold >= 0 && relativeThreshold < 1)) throw new ArgumentOutOfRangeException(nameof(relativeThreshold), relativeThreshold, "The relative threshold must be in [0, 1).");
        var norms = new double[vocabSize];
        double max = 0;
        for (int v = 0; v < vocabSize; v++)
        {
            norms[v] = VectorMath.Norm(embeddingUpdate.Slice(v * dim, dim));
            max = Math.Max(max, norms[v]);
        }
        var ranking = Enumerable.Range(0, vocabSize).OrderByDescending(v => norms[v]).ThenBy(v => v).ToArray();
        var recovered = ranking.Where(v => norms[v] > relativeThreshold * max && norms[v] > 0).Order().ToArray();
        return new TokenSetResult(recovered, ranking, [.. ranking.Select(v => norms[v])], "embedding-rows");
    }

    // f_v = gradient of the sequence [v, v] whose second token is the only target.
    private static void Footprint(GradientOracle oracle, int token, Span<float> destination)
    {
        var example = new TokenizedExample([token, token], [false, true], 1);
        oracle.Gradient([example], destination);
    }

    private static TokenSetResult Rank(int[] candidates, double[] scores, TokenSetOptions options, string method)
    {
        var order = Enumerable.Range(0, candidates.Length).OrderByDescending(i => scores[i]).ThenBy(i => candidates[i]).ToArray();
        var ranking = order.Select(i => candidates[i]).ToArray();
        var sorted = order.Select(i => scores[i]).ToArray();
        int k = options.SetSize ?? EstimateSize(sorted, options.MaxSetSize);
        k = Math.Min(k, ranking.Length);
        return new TokenSetResult([.. ranking.Take(k).Order()], ranking, sorted, method);
    }

    // k = argmax_{1 ≤ k ≤ max} (s_{k−1} − s_k) over the descending scores: the cut at the largest drop.
    internal static int EstimateSize(double[] sortedDescending, int max)
    {
        int best = 1;
        double bestGap = double.NegativeInfinity;
        for (int k = 1; k <= Math.Min(max, sortedDescending.Length - 1); k++)
        {
            double gap = sortedDescending[k - 1] - sortedDescending[k];
            if (gap > bestGap) { bestGap = gap; best = k; }
        }
        return best;
    }
}
