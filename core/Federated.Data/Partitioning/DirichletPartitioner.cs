using System.Globalization;
using MathNet.Numerics.Distributions;

namespace Federated.Data.Partitioning;

/// <summary>
/// Label-Dirichlet non-IID split, NIID-Bench's <c>partition_idx_labeldir</c> as used by FedKSeed on Dolly-15K:
/// <list type="number">
/// <item>for each category k (ordinal order): shuffle its records, draw p ~ Dir(α·1_N) over the N clients;</item>
/// <item>a client already holding ≥ total/N records gets p = 0 (then p is renormalised);</item>
/// <item>cut the shuffled records at ⌊cumsum(p)·n_k⌋ and append the pieces to the clients;</item>
/// <item>repeat the whole draw until every client holds ≥ <see cref="MinSize"/> records (at most 1000 attempts).</item>
/// </list>
/// Small α concentrates each category on few clients (few categories per client); α → ∞ tends to IID.
/// </summary>
public sealed class DirichletPartitioner : Partitioner
{
    /// <summary>Attempts before giving up on the minimum size.</summary>
    public const int MaxAttempts = 1000;

    /// <summary>Default minimum records per client (FedKSeed uses 10), lowered to max(1, ⌊n/(2N)⌋) for small data.</summary>
    public const int DefaultMinSize = 10;

    /// <summary>Creates the partitioner.</summary>
    /// <param name="alpha">Dirichlet concentration, &gt; 0.</param>
    /// <param name="minSize">Minimum records per client; null = clamp(⌊n/(2N)⌋, 1, 10) for n records and N clients.</param>
    public DirichletPartitioner(double alpha, int? minSize = null)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), $"Dirichlet α must be a positive finite number, got {alpha}.");
        if (minSize is < 0) throw new ArgumentOutOfRangeException(nameof(minSize), $"Minimum client size must be ≥ 0, got {minSize}.");
        Alpha = alpha;
        MinSize = minSize;
    }

    /// <summary>Dirichlet concentration α.</summary>
    public double Alpha { get; }

    /// <summary>Minimum records per client, or null for the default rule.</summary>
    public int? MinSize { get; }

    /// <inheritdoc/>
    public override string Scheme => "dirichlet:" + Alpha.ToString("R", CultureInfo.InvariantCulture)
        + (MinSize is { } m ? ",min=" + m.ToString(CultureInfo.InvariantCulture) : "");

    /// <inheritdoc/>
    public override int[][] Partition(IReadOnlyList<string> categories, int clientCount, Random random)
    {
        CheckCounts(categories.Count, clientCount);
        int total = categories.Count;
        int minSize = MinSize ?? Math.Clamp(total / (2 * clientCount), 1, DefaultMinSize);
        if ((long)minSize * clientCount > total)
            throw new ArgumentException($"Minimum size {minSize} × {clientCount} clients exceeds the {total} records.");
        var groups = Partitioner.ByCategory(categories).Values.Select(static g => g.ToArray()).ToArray();
        double capacity = (double)total / clientCount;
        var alpha = Enumerable.Repeat(Alpha, clientCount).ToArray();
        var proportions = new double[clientCount];
        // One attempt deals every record once: dealt[i] is the i-th record dealt (categories in order, each shuffled)
        // and owner[i] the client it went to. Both are reused across attempts.
        var dealt = new int[total];
        var owner = new int[total];
        var counts = new int[clientCount];
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            Array.Clear(counts);
            int offset = 0;
            foreach (var records in groups)
            {
                var shuffled = dealt.AsSpan(offset, records.Length);
                records.CopyTo(shuffled);
                Shuffle(shuffled, random);
                Draw(alpha, random, proportions);
                double sum = 0;
                for (int c = 0; c < clientCount; c++)
                {
                    if (counts[c] >= capacity) proportions[c] = 0;
                    sum += proportions[c];
                }
                if (!(sum > 0)) // every client with mass is full: fall back to the clients below capacity
                    for (int c = 0; c < clientCount; c++) sum += proportions[c] = counts[c] < capacity ? 1 : 0;
                double cumulative = 0;
                int start = 0;
                for (int c = 0; c < clientCount; c++)
                {
                    cumulative += proportions[c] / sum;
                    int end = c == clientCount - 1 ? shuffled.Length : Math.Min(shuffled.Length, (int)(cumulative * shuffled.Length));
                    if (end > start)
                    {
                        owner.AsSpan(offset + start, end - start).Fill(c);
                        counts[c] += end - start;
                    }
                    start = Math.Max(start, end);
                }
                offset += records.Length;
            }
            if (counts.Min() >= minSize) return Gather(dealt, owner, counts);
        }
        throw new ArgumentException($"Dirichlet α={Alpha} could not give every one of {clientCount} clients at least {minSize} records " +
                                    $"in {MaxAttempts} draws; raise α, lower the client count or set dirichlet:{Alpha},min=N.");
    }

    /// <summary>Each client's records in the order they were dealt to it.</summary>
    private static int[][] Gather(int[] dealt, int[] owner, int[] counts)
    {
        var clients = counts.Select(static n => new int[n]).ToArray();
        var filled = new int[counts.Length];
        for (int i = 0; i < dealt.Length; i++) clients[owner[i]][filled[owner[i]]++] = dealt[i];
        return clients;
    }

    /// <summary>
    /// One Dir(α) draw into <paramref name="destination"/>: Gamma(αᵢ, 1) draws normalised by their sum, exactly what
    /// MathNet's Dirichlet.Sample computes (same draws, same order) without its per-draw array. If every Gamma draw
    /// underflows to 0 (tiny α), all mass goes to one uniform pick.
    /// </summary>
    internal static void Draw(double[] alpha, Random random, double[] destination)
    {
        double sum = 0;
        for (int c = 0; c < alpha.Length; c++) sum += destination[c] = Gamma.Sample(random, alpha[c], 1.0);
        bool finite = true;
        for (int c = 0; c < destination.Length; c++) finite &= double.IsFinite(destination[c] /= sum);
        if (finite) return;
        Array.Clear(destination);
        destination[random.Next(destination.Length)] = 1;
    }
}
