using System.Diagnostics;
using Federated.Core.Generation;
using Federated.Data.Training;
using Federated.Privacy.Gradients;

namespace Federated.Privacy.Inversion;

/// <summary>The shape of one sequence of the client's batch that the attacker assumes known (as LAMP does).</summary>
/// <param name="Length">Number of tokens.</param>
/// <param name="PromptLength">Tokens before the scored response (the loss mask is true from here on).</param>
/// <param name="KnownTokens">Optional ids fixed by a public template (−1 = unknown), length <paramref name="Length"/>.</param>
public sealed record InversionSequence(int Length, int PromptLength, int[]? KnownTokens = null);

/// <summary>Options of <see cref="GradientInversion.Reconstruct"/>. Every bound is a hard stop.</summary>
public sealed record InversionOptions
{
    /// <summary>
    /// Starts: the first from random tokens, each later one from the best batch so far with a quarter of its unknown
    /// positions redrawn (iterated local search); the lowest matching loss wins. Default 4.
    /// </summary>
    public int Restarts { get; init; } = 4;

    /// <summary>
    /// Iterations of the relaxed stage per start: a distribution over the prior at every unknown position, sampled
    /// and refitted to the best samples (cross-entropy method, gradient-free); 0 = start from uniform random tokens. Default 8.
    /// </summary>
    public int RelaxedIterations { get; init; } = 8;

    /// <summary>Samples per relaxed iteration (the best quarter refits the distribution). Default 16.</summary>
    public int RelaxedPopulation { get; init; } = 16;

    /// <summary>Coordinate-descent passes over every unknown position per start. Default 3.</summary>
    public int Sweeps { get; init; } = 3;

    /// <summary>LAMP-style discrete moves (swap two tokens, move one token) tried after the sweeps, per start. Default 100.</summary>
    public int MoveTrials { get; init; } = 100;

    /// <summary>η of the client's SGD step; &gt; 0 adds TAG's L2 term against u = −Δ/η. 0 = cosine only (scale unknown). Default 0.</summary>
    public float LearningRate { get; init; }

    /// <summary>Weight λ of the L2 term ‖g(x) − u‖² / ‖u‖². Default 1 (used only with a learning rate).</summary>
    public double L2Weight { get; init; } = 1;

    /// <summary>Most matching-loss evaluations (each one forward + backward of the whole batch). Default 20,000.</summary>
    public int MaxEvaluations { get; init; } = 20_000;

    /// <summary>Wall-clock bound; null = none. The best candidate so far is returned when it is hit.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Seed of the starts and move proposals (SplitMix64). Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    public void Validate()
    {
        if (Restarts < 1) throw new ArgumentOutOfRangeException(nameof(Restarts), Restarts, "Restarts must be at least 1.");
        if (RelaxedIterations < 0) throw new ArgumentOutOfRangeException(nameof(RelaxedIterations), RelaxedIterations, "RelaxedIterations must be ≥ 0.");
        if (RelaxedPopulation < 4) throw new ArgumentOutOfRangeException(nameof(RelaxedPopulation), RelaxedPopulation, "RelaxedPopulation must be at least 4.");
        if (Sweeps < 0) throw new ArgumentOutOfRangeException(nameof(Sweeps), Sweeps, "Sweeps must be ≥ 0.");
        if (MoveTrials < 0) throw new ArgumentOutOfRangeException(nameof(MoveTrials), MoveTrials, "MoveTrials must be ≥ 0.");
        if (!(LearningRate >= 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and ≥ 0.");
        if (!(L2Weight >= 0) || !double.IsFinite(L2Weight)) throw new ArgumentOutOfRangeException(nameof(L2Weight), L2Weight, "L2Weight must be finite and ≥ 0.");
        if (MaxEvaluations < 1) throw new ArgumentOutOfRangeException(nameof(MaxEvaluations), MaxEvaluations, "MaxEvaluations must be at least 1.");
        if (TimeLimit is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeLimit), t, "TimeLimit must be positive.");
    }
}

/// <summary>The reconstruction and how well its update matches the observed one.</summary>
/// <param name="Sequences">Reconstructed ids, one array per sequence (batch order is not identifiable).</param>
/// <param name="MatchingLoss">D of the reconstruction (0 = identical update direction).</param>
/// <param name="InitialMatchingLoss">D of the random first start before optimisation (the prior-only baseline).</param>
/// <param name="Evaluations">Matching-loss evaluations spent.</param>
/// <param name="Truncated">True when an evaluation or time bound stopped the search early.</param>
public sealed record InversionResult(int[][] Sequences, double MatchingLoss, double InitialMatchingLoss, int Evaluations, bool Truncated);

/// <summary>
/// Optimisation-based gradient inversion of one local step (TAG, Deng et al., Findings of EMNLP 2021; LAMP,
/// Balunović et al., NeurIPS 2022). Given the client's update Δ of a single SGD step (so −Δ ∝ g(x*), the gradient of its batch x*),
/// find x minimising the matching loss D(x) = 1 − cos(g(x), u) [+ λ‖g(x) − u‖²/‖u‖² when η is known, u = −Δ/η].
/// The search is over token sequences drawn from a token-set prior (e.g. <see cref="TokenSet.TokenSetProbe"/>'s
/// recovered set), so every candidate is evaluated exactly with one forward + backward and no second-order autograd
/// is needed: random starts from the prior; a relaxed stage (a categorical distribution over the prior at every
/// position, refitted to the best samples: the cross-entropy method, a zeroth-order optimiser of the relaxed
/// objective E_p[D(x)]); coordinate descent (for each unknown position in a seeded random order,
/// try every prior token there and keep the best); then LAMP's discrete moves (swap two tokens, move a token to another
/// position) accepted when D drops; then further starts that kick the best batch so far and descend again. The
/// lowest-D batch is returned.
/// Cost ≈ restarts·(relaxed iterations·population + sweeps·positions·|prior| + moves) evaluations, each one forward + backward of the batch.
/// Limits: the batch shape (lengths, prompt lengths) is assumed known; with B &gt; 1 the sequences come back as a set;
/// a compressed or multi-step update only approximates g(x*) and the attack degrades accordingly.
/// </summary>
public static class GradientInversion
{
    /// <summary>Reconstructs the batch behind <paramref name="update"/> (the client's Δ in the oracle's layout).</summary>
    public static InversionResult Reconstruct(GradientOracle oracle, ReadOnlySpan<float> update, IReadOnlyList<InversionSequence> shape,
        IReadOnlyList<int> tokenPrior, InversionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(tokenPrior);
        options ??= new InversionOptions();
        options.Validate();
        if (update.Length != oracle.ElementCount) throw new ArgumentException($"The update has {update.Length} elements; the oracle's layout has {oracle.ElementCount}.", nameof(update));
        if (shape.Count == 0) throw new ArgumentException("The batch shape is empty.", nameof(shape));
        var prior = tokenPrior.Distinct().ToArray();
        if (prior.Length == 0) throw new ArgumentException("The token prior is empty.", nameof(tokenPrior));
        CheckShape(shape, oracle.Model.Config.VocabSize);

        var search = new Search(oracle, update, shape, prior, options, cancellationToken);
        return search.Run();
    }

    /// <summary>The matching loss D of a candidate batch against <paramref name="update"/> (the quantity <see cref="Reconstruct"/> minimises).</summary>
    public static double MatchingLoss(GradientOracle oracle, ReadOnlySpan<float> update, IReadOnlyList<TokenizedExample> candidate, InversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        options ??= new InversionOptions();
        var target = Target(update, options);
        var g = oracle.Gradient(candidate);
        return Distance(g, target, options);
    }

    private static float[] Target(ReadOnlySpan<float> update, InversionOptions options)
    {
        // u = −Δ/η (an SGD step is Δ = −η g); without η only the direction −Δ matters.
        float scale = options.LearningRate > 0 ? -1f / options.LearningRate : -1f;
        var u = new float[update.Length];
        for (int i = 0; i < u.Length; i++) u[i] = scale * update[i];
        return u;
    }

    private static double Distance(ReadOnlySpan<float> g, ReadOnlySpan<float> u, InversionOptions options)
    {
        double d = 1 - VectorMath.Cosine(g, u);
        if (options.LearningRate > 0 && options.L2Weight > 0)
        {
            double diff = 0, norm = 0;
            for (int i = 0; i < u.Length; i++) { double e = g[i] - u[i]; diff += e * e; norm += (double)u[i] * u[i]; }
            d += options.L2Weight * diff / Math.Max(norm, double.Epsilon);
        }
        return d;
    }

    private static void CheckShape(IReadOnlyList<InversionSequence> shape, int vocab)
    {
        for (int b = 0; b < shape.Count; b++)
        {
            var s = shape[b];
            if (s.Length < 2) throw new ArgumentException($"Sequence {b} has {s.Length} tokens; at least 2 are needed for a next-token loss.", nameof(shape));
            if (s.PromptLength < 0 || s.PromptLength >= s.Length) throw new ArgumentException($"Sequence {b} has prompt length {s.PromptLength} for {s.Length} tokens; some response token must be scored.", nameof(shape));
            if (s.KnownTokens is { } known)
            {
                if (known.Length != s.Length) throw new ArgumentException($"Sequence {b}'s known tokens have length {known.Length}, not {s.Length}.", nameof(shape));
                foreach (int t in known)
                    if (t < -1 || t >= vocab) throw new ArgumentException($"Sequence {b} fixes token {t}, outside the vocabulary of {vocab}.", nameof(shape));
            }
        }
    }

    /// <summary>The state of one reconstruction (candidate batch, evaluation budget, random stream).</summary>
    private sealed class Search
    {
        private readonly GradientOracle _oracle;
        private readonly float[] _target;
        private readonly IReadOnlyList<InversionSequence> _shape;
        private readonly int[] _prior;
        private readonly InversionOptions _options;
        private readonly CancellationToken _cancellationToken;
        private readonly float[] _gradient;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly (int Sequence, int Position)[] _unknown;
        private SplitMix64 _random;
        private int _evaluations;

        public Search(GradientOracle oracle, ReadOnlySpan<float> update, IReadOnlyList<InversionSequence> shape, int[] prior,
            InversionOptions options, CancellationToken cancellationToken)
        {
            _oracle = oracle;
            _target = Target(update, options);
            _shape = shape;
            _prior = prior;
            _options = options;
            _cancellationToken = cancellationToken;
            _gradient = new float[oracle.ElementCount];
            _random = new SplitMix64(options.Seed);
            _unknown = [.. shape.SelectMany((s, b) => Enumerable.Range(0, s.Length).Where(i => s.KnownTokens is null || s.KnownTokens[i] < 0).Select(i => (b, i)))];
        }

        private bool Exhausted => _evaluations >= _options.MaxEvaluations || (_options.TimeLimit is { } t && _clock.Elapsed >= t);

        public InversionResult Run()
        {
            int[][]? best = null;
            double bestLoss = double.PositiveInfinity, bestInitial = double.PositiveInfinity;
            for (int r = 0; r < _options.Restarts && (r == 0 || !Exhausted); r++)
            {
                // Start 0 is random and goes through the relaxed stage; later starts kick the best batch so far
                // (a quarter of its unknown positions redrawn from the prior) — iterated local search.
                var x = best is null ? RandomStart() : Kick(best);
                double loss = Evaluate(x);
                if (best is null)
                {
                    bestInitial = loss;
                    loss = Relaxed(x, loss);
                }
                loss = CoordinateDescent(x, loss);
                loss = DiscreteMoves(x, loss);
                if (loss < bestLoss) { bestLoss = loss; best = [.. x.Select(s => (int[])s.Clone())]; }
            }
            return new InversionResult(best!, bestLoss, bestInitial, _evaluations, Exhausted);
        }

        private int[][] Kick(int[][] from)
        {
            var x = from.Select(row => (int[])row.Clone()).ToArray();
            int count = Math.Max(1, _unknown.Length / 4);
            for (int c = 0; c < count; c++)
            {
                var (b, i) = _unknown[Next(_unknown.Length)];
                x[b][i] = _prior[Next(_prior.Length)];
            }
            return x;
        }

        private int[][] RandomStart()
        {
            var x = new int[_shape.Count][];
            for (int b = 0; b < x.Length; b++)
            {
                var s = _shape[b];
                x[b] = new int[s.Length];
                for (int i = 0; i < s.Length; i++)
                    x[b][i] = s.KnownTokens is { } k && k[i] >= 0 ? k[i] : _prior[Next(_prior.Length)];
            }
            return x;
        }

        // Cross-entropy method over the relaxed batch: p[u] is a distribution over the prior at unknown position u
        // (uniform at first); each iteration samples a population, keeps the best quarter (the elite) and moves
        // p[u] ← ½·p[u] + ½·(elite frequencies at u). x becomes the best sample seen when it beats the start.
        private double Relaxed(int[][] x, double loss)
        {
            int positions = _unknown.Length, k = _prior.Length, population = _options.RelaxedPopulation, elite = population / 4;
            if (positions == 0 || _options.RelaxedIterations == 0) return loss;
            var best = new int[positions];
            for (int u = 0; u < positions; u++) { var (b, i) = _unknown[u]; best[u] = x[b][i]; }
            var p = new double[positions, k];
            for (int u = 0; u < positions; u++) for (int j = 0; j < k; j++) p[u, j] = 1.0 / k;
            var samples = new int[population][];
            var losses = new double[population];
            for (int iteration = 0; iteration < _options.RelaxedIterations && !Exhausted; iteration++)
            {
                int drawn = 0;
                for (; drawn < population && !Exhausted; drawn++)
                {
                    var choice = new int[positions];
                    for (int u = 0; u < positions; u++)
                    {
                        double r = _random.NextDouble(), cumulative = 0;
                        int j = 0;
                        for (; j < k - 1; j++) { cumulative += p[u, j]; if (r < cumulative) break; }
                        choice[u] = j;
                        var (b, i) = _unknown[u];
                        x[b][i] = _prior[j];
                    }
                    samples[drawn] = choice;
                    losses[drawn] = Evaluate(x);
                    if (losses[drawn] < loss)
                    {
                        loss = losses[drawn];
                        for (int u = 0; u < positions; u++) best[u] = _prior[choice[u]];
                    }
                }
                if (drawn < population) break;
                var order = Enumerable.Range(0, population).OrderBy(m => losses[m]).ThenBy(m => m).ToArray();
                for (int u = 0; u < positions; u++)
                {
                    for (int j = 0; j < k; j++) p[u, j] *= 0.5;
                    for (int e = 0; e < elite; e++) p[u, samples[order[e]][u]] += 0.5 / elite;
                }
            }
            for (int u = 0; u < positions; u++) { var (b, i) = _unknown[u]; x[b][i] = best[u]; }
            return loss;
        }

        // For each unknown position (seeded random order), set it to the prior token with the lowest D.
        private double CoordinateDescent(int[][] x, double loss)
        {
            for (int sweep = 0; sweep < _options.Sweeps; sweep++)
            {
                bool improved = false;
                foreach (var (b, i) in Shuffled(_unknown))
                {
                    int current = x[b][i], bestToken = current;
                    foreach (int token in _prior)
                    {
                        if (token == current) continue;
                        if (Exhausted) return loss;
                        x[b][i] = token;
                        double d = Evaluate(x);
                        if (d < loss) { loss = d; bestToken = token; improved = true; }
                    }
                    x[b][i] = bestToken;
                }
                if (!improved) break;
            }
            return loss;
        }

        // LAMP's moves within one sequence: swap two unknown positions, or move the token at i to j (shifting the rest).
        private double DiscreteMoves(int[][] x, double loss)
        {
            for (int trial = 0; trial < _options.MoveTrials && !Exhausted && _unknown.Length >= 2; trial++)
            {
                var (b, i) = _unknown[Next(_unknown.Length)];
                var (b2, j) = _unknown[Next(_unknown.Length)];
                if (b2 != b || i == j) continue;
                var saved = (int[])x[b].Clone();
                if (Next(2) == 0) (x[b][i], x[b][j]) = (x[b][j], x[b][i]);
                else Move(x[b], i, j, _shape[b].KnownTokens);
                double d = Evaluate(x);
                if (d < loss) loss = d;
                else x[b] = saved;
            }
            return loss;
        }

        // Moves the token at i to j over the unknown positions between them (known template tokens stay put).
        private static void Move(int[] row, int i, int j, int[]? known)
        {
            int token = row[i], step = j > i ? 1 : -1;
            int at = i;
            for (int k = i + step; k != j + step; k += step)
            {
                if (known is not null && known[k] >= 0) continue;
                row[at] = row[k];
                at = k;
            }
            row[at] = token;
        }

        private double Evaluate(int[][] x)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            _evaluations++;
            var batch = new TokenizedExample[x.Length];
            for (int b = 0; b < x.Length; b++)
            {
                var mask = new bool[x[b].Length];
                for (int i = _shape[b].PromptLength; i < mask.Length; i++) mask[i] = true;
                batch[b] = new TokenizedExample(x[b], mask, _shape[b].PromptLength);
            }
            _oracle.Gradient(batch, _gradient);
            return Distance(_gradient, _target, _options);
        }

        private (int, int)[] Shuffled((int, int)[] items)
        {
            var a = ((int, int)[])items.Clone();
            for (int i = a.Length - 1; i > 0; i--)
            {
                int j = Next(i + 1);
                (a[i], a[j]) = (a[j], a[i]);
            }
            return a;
        }

        private int Next(int n) => (int)(_random.NextDouble() * n);
    }
}
