using Federated.Data.Training;
using Federated.Privacy.Gradients;

namespace Federated.Privacy.TokenSet;

/// <summary>How <see cref="TokenSetProbe.FromUpdate"/> compares a token's footprint with the update.</summary>
public enum TokenSetScoring
{
    /// <summary>cos(−Δ, f_v − f̄) over the whole update.</summary>
    Cosine,

    /// <summary>Per weight matrix, the fraction of the footprint's energy inside the update's column and row spaces (DAGER-style soft span check).</summary>
    Span,
}

/// <summary>Options of <see cref="TokenSetProbe.FromUpdate"/>.</summary>
public sealed record TokenSetOptions
{
    /// <summary>How many tokens to report; null = estimated as the largest gap in the sorted scores within <see cref="MaxSetSize"/>.</summary>
    public int? SetSize { get; init; }

    /// <summary>Upper bound of the estimated set size. Default 64.</summary>
    public int MaxSetSize { get; init; } = 64;

    /// <summary>
    /// Public context the footprints are taken in (e.g. the prompt template's ids): f_v = g(context ++ [v]) with only v
    /// scored. Empty (default) = the context-free footprint g([v, v]).
    /// </summary>
    public IReadOnlyList<int> FootprintContext { get; init; } = [];

    /// <summary>How footprints are compared with the update. Default <see cref="TokenSetScoring.Span"/>.</summary>
    public TokenSetScoring Scoring { get; init; } = TokenSetScoring.Span;

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
/// <param name="Method">"footprint-span", "footprint-cosine" or "embedding-rows".</param>
public sealed record TokenSetResult(int[] Recovered, int[] Ranking, double[] Scores, string Method);

/// <summary>
/// Token-set leakage (Melis et al., IEEE S&P 2019; FILM, Gupta et al., NeurIPS 2022): which tokens were in the batch behind an update?
/// <para><b>Footprints</b> (any first-order update, e.g. FFA-LoRA's B): for each candidate token v the server computes
/// f_v = g([v, v]), the gradient of the two-token sequence "v v" with the second v scored (v is an input and a target,
/// as in the client's text), or g(context ++ [v]) with a public context. Then either</para>
/// <list type="bullet">
/// <item><b>Span</b> (default; DAGER-style): every weight-matrix gradient is G = Σ_t δ_t x_tᵀ, so its column space is
/// spanned by the batch's back-propagated errors and its row space by the batch's inputs. s_v = mean over the update's
/// matrices (and sides that are not full rank) of ‖P f_v‖² / ‖f_v‖², the share of v's footprint inside the observed
/// spans (<see cref="SpanScorer"/>). Works when rank(update) &lt; the matrix side, e.g. LoRA rank ≥ the number of
/// scored positions; blurs as the batch grows. When no side of any matrix is rank-deficient (e.g. a noised full
/// weight update) Cosine is used instead and <see cref="TokenSetResult.Method"/> says so. A LoRA-B side is always
/// rank ≤ r, so noise or sparsification there weakens the span score rather than switching it off.</item>
/// <item><b>Cosine</b>: s_v = cos(−Δ, f_v − f̄), f̄ the mean footprint over the candidates (the direction every token
/// shares removed). Weaker, but needs no low-rank structure.</item>
/// </list>
/// <para>The top-k tokens are reported (k given, or cut at the largest score gap). Time |candidates|·(forward +
/// backward) of two tokens (twice for Cosine); memory O(update).</para>
/// <para><b>Embedding rows</b> (an update that contains an untied input embedding): rows of tokens that were not an
/// input get exactly zero gradient, so the non-zero rows are the set (every input token except one that only occurs
/// last in its sequence).</para>
/// </summary>
public static class TokenSetProbe
{
    /// <summary>Ranks every candidate token by how its footprint fits <paramref name="update"/> (the client's Δ in the oracle's layout).</summary>
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

        if (options.Scoring == TokenSetScoring.Span)
        {
            // An update whose every matrix side is full rank has no informative span: fall back to cosine.
            var span = new SpanScorer(oracle, update);
            if (span.SideCount > 0)
                return Rank(candidates, SpanScores(oracle, span, candidates, options.FootprintContext, cancellationToken), options, "footprint-span");
        }
        var scores = CosineScores(oracle, update, candidates, options.FootprintContext, cancellationToken);
        return Rank(candidates, scores, options, "footprint-cosine");
    }

    // s_v = fraction of f_v's energy inside the update's column/row spaces (SpanScorer). One pass over the candidates.
    private static double[] SpanScores(GradientOracle oracle, SpanScorer span, int[] candidates, IReadOnlyList<int> context,
        CancellationToken cancellationToken)
    {
        var footprint = new float[oracle.ElementCount];
        var scores = new double[candidates.Length];
        for (int c = 0; c < candidates.Length; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Footprint(oracle, context, candidates[c], footprint);
            scores[c] = span.Score(footprint);
        }
        return scores;
    }

    // s_v = cos(−Δ, f_v − f̄). Two passes (the mean footprint, then the scores) so memory stays O(update).
    private static double[] CosineScores(GradientOracle oracle, ReadOnlySpan<float> update, int[] candidates, IReadOnlyList<int> context,
        CancellationToken cancellationToken)
    {
        int n = oracle.ElementCount;
        var u = new float[n];
        for (int i = 0; i < n; i++) u[i] = -update[i];
        var footprint = new float[n];
        var mean = new double[n];
        foreach (int v in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Footprint(oracle, context, v, footprint);
            for (int i = 0; i < n; i++) mean[i] += footprint[i];
        }
        var scores = new double[candidates.Length];
        for (int c = 0; c < candidates.Length; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Footprint(oracle, context, candidates[c], footprint);
            for (int i = 0; i < n; i++) footprint[i] -= (float)(mean[i] / candidates.Length);
            scores[c] = VectorMath.Cosine(u, footprint);
        }
        return scores;
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

    // f_v = gradient of context ++ [v] (or [v, v] without context) whose last token is the only target.
    private static void Footprint(GradientOracle oracle, IReadOnlyList<int> context, int token, Span<float> destination)
    {
        int[] ids = context.Count == 0 ? [token, token] : [.. context, token];
        var mask = new bool[ids.Length];
        mask[^1] = true;
        oracle.Gradient([new TokenizedExample(ids, mask, ids.Length - 1)], destination);
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
