using System.Globalization;

namespace Federated.Data.Partitioning;

/// <summary>
/// Pathological non-IID split ("#C=k" in NIID-Bench): every client holds exactly k categories (or all of them when
/// fewer exist). The categories are shuffled, then client c takes positions c·k … c·k+k−1 of that order, cyclically, so all
/// categories are used when N·k ≥ C and the categories are spread as evenly as possible. Each category's shuffled records
/// are then dealt in equal consecutive chunks to the clients holding it (the larger chunks to the holders with the fewest
/// records so far). A client can end up empty only when its categories have fewer records than holders. Categories no client holds (N·k &lt; C) stay
/// unassigned and are reported as such by <see cref="PartitionScheme.Apply"/>.
/// </summary>
public sealed class CategoryPartitioner : Partitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <param name="categoriesPerClient">k ≥ 1.</param>
    public CategoryPartitioner(int categoriesPerClient)
    {
        if (categoriesPerClient < 1) throw new ArgumentOutOfRangeException(nameof(categoriesPerClient), $"Categories per client must be ≥ 1, got {categoriesPerClient}.");
        CategoriesPerClient = categoriesPerClient;
    }

    /// <summary>k.</summary>
    public int CategoriesPerClient { get; }

    /// <inheritdoc/>
    public override string Scheme => "categories:" + CategoriesPerClient.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override int[][] Partition(IReadOnlyList<string> categories, int clientCount, Random random)
    {
        CheckCounts(categories.Count, clientCount);
        var groups = ByCategory(categories).Values.ToArray();
        int k = Math.Min(CategoriesPerClient, groups.Length);
        var order = Enumerable.Range(0, groups.Length).ToArray();
        Shuffle(order, random);
        var owners = Enumerable.Range(0, groups.Length).Select(_ => new List<int>()).ToArray();
        for (int c = 0; c < clientCount; c++)
            for (int j = 0; j < k; j++)
                owners[order[(c * k + j) % groups.Length]].Add(c);
        var clients = Enumerable.Range(0, clientCount).Select(_ => new List<int>()).ToArray();
        for (int g = 0; g < groups.Length; g++)
        {
            if (owners[g].Count == 0) continue;
            var shuffled = groups[g].ToArray();
            Shuffle(shuffled, random);
            // The larger pieces (EqualSizes puts the +1 first) go to the holders with the fewest records so far.
            var holders = owners[g].OrderBy(c => clients[c].Count).ThenBy(c => c).ToArray();
            var pieces = Slice(shuffled, EqualSizes(shuffled.Length, holders.Length));
            for (int o = 0; o < holders.Length; o++) clients[holders[o]].AddRange(pieces[o]);
        }
        return clients.Select(c => c.ToArray()).ToArray();
    }
}
