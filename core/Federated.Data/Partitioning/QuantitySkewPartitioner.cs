using System.Globalization;
using MathNet.Numerics.Distributions;

namespace Federated.Data.Partitioning;

/// <summary>
/// Quantity skew: records are IID but client sizes are not. Draw w_c ~ LogNormal(0, σ) for each client, size
/// n_c = n·w_c/Σw rounded by largest remainder, then every client is raised to at least one record (taken from the
/// largest); shuffled records are dealt in consecutive chunks of those sizes. σ = 0 gives equal sizes.
/// </summary>
public sealed class QuantitySkewPartitioner : Partitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <param name="sigma">Log-normal σ ≥ 0 (1.0 gives roughly a 10× spread between small and large clients).</param>
    public QuantitySkewPartitioner(double sigma)
    {
        if (!(sigma >= 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), $"Log-normal σ must be a finite number ≥ 0, got {sigma}.");
        Sigma = sigma;
    }

    /// <summary>Log-normal σ.</summary>
    public double Sigma { get; }

    /// <inheritdoc/>
    public override string Scheme => "quantity:" + Sigma.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override int[][] Partition(IReadOnlyList<string> categories, int clientCount, Random random)
    {
        CheckCounts(categories.Count, clientCount);
        int n = categories.Count;
        var weights = new double[clientCount];
        for (int c = 0; c < clientCount; c++) weights[c] = Sigma == 0 ? 1 : LogNormal.Sample(random, 0, Sigma);
        double sum = weights.Sum();
        var sizes = new int[clientCount];
        var remainders = new double[clientCount];
        for (int c = 0; c < clientCount; c++)
        {
            double exact = n * weights[c] / sum;
            sizes[c] = (int)Math.Floor(exact);
            remainders[c] = exact - sizes[c];
        }
        int missing = n - sizes.Sum();
        foreach (var c in Enumerable.Range(0, clientCount).OrderByDescending(c => remainders[c]).ThenBy(c => c).Take(missing)) sizes[c]++;
        for (int c = 0; c < clientCount; c++)
        {
            while (sizes[c] < 1)
            {
                int largest = Array.IndexOf(sizes, sizes.Max());
                sizes[largest]--;
                sizes[c]++;
            }
        }
        var order = Enumerable.Range(0, n).ToArray();
        Shuffle(order, random);
        return Slice(order, sizes);
    }
}
