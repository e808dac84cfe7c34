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
    /// <summary>Independent random starts; the best matching loss wins. Default 2.</summary>
    public int Restarts { get; init; } = 2;

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
/// <param name="InitialMatchingLoss">D of the best random start before optimisation (the prior-only baseline).</param>
/// <param name="Evaluations">Matching-loss evaluations spent.</param>
/// <param name="Truncated">True when an evaluation or time bound stopped the search early.</param>
public sealed record InversionResult(int[][] Sequences, double MatchingLoss, double InitialMatchingLoss, int Evaluations, bool Truncated);

/// <summary>
/// Optimisation-based gradient inversion of one local step (TAG, Zhu et al. 2021; LAMP, Balunović et al. 2022),
/// research note §1.4. Given the client's update Δ of a single SGD step (so −Δ ∝ g(x*), the gradient of its batch x*),
/// find x minimising the matching loss D(x) = 1 − cos(g(x), u) [+ λ‖g(x) − u‖²/‖u‖² when η is known, u = −Δ/η].
/// The search is over token sequences drawn from a token-set prior (e.g. <see cref="TokenSet.TokenSetProbe"/>'s
/// recovered set), so every candidate is evaluated exactly with one forward + backward and no second-order autograd
/// is needed: random starts from the prior; coordinate descent (for each unknown position in a seeded random order,
/// try every prior token there and keep the best); then LAMP's discrete moves (swap two tokens, move a token to another
/// position) accepted when D drops. The best (lowest D) candidate over the starts is returned.
/// Cost ≈ restarts·(sweeps·positions·|prior| + moves) evaluations, each one forward + backward of the batch.
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
            for (int r = 0; r < _options.Restarts && !Exhausted; r++)
            {
                var x = RandomStart();
                double loss = Evaluate(x);
                bestInitial = Math.Min(bestInitial, loss);
                loss = CoordinateDescent(x, loss);
                loss = DiscreteMoves(x, loss);
                if (loss < bestLoss) { bestLoss = loss; best = [.. x.Select(s => (int[])s.Clone())]; }
            }
            return new InversionResult(best!, bestLoss, bestInitial, _evaluations, Exhausted);
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
