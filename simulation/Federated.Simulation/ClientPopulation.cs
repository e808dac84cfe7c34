using Federated.Data.Training;

namespace Federated.Simulation;

/// <summary>What every simulated federation does with its clients: canaries and default names (the coordinator selects who trains).</summary>
internal static class ClientPopulation
{
    /// <summary>
    /// Plants <paramref name="canaryCount"/> canaries (global training indices trainCount … trainCount + canaryCount − 1,
    /// i.e. appended to the training set) at the end of client 0's shard; the other shards are unchanged.
    /// </summary>
    public static IReadOnlyList<int[]> PlantCanaries(IReadOnlyList<int[]> shards, int trainCount, int canaryCount)
    {
        if (canaryCount == 0) return shards;
        var planted = shards.ToArray();
        planted[0] = [.. shards[0], .. Enumerable.Range(trainCount, canaryCount)];
        return planted;
    }

    /// <summary>The name of client <paramref name="client"/> when none are given: client-00000, client-00001, …</summary>
    public static string DefaultName(int client) => $"client-{client:D5}";
}

/// <summary>A client's examples as a list view over the shared tokenized set (each access decodes one example).</summary>
internal sealed class ShardView(TokenizedCorpus all, int[] indices) : IReadOnlyList<TokenizedExample>
{
    public TokenizedExample this[int index] => all[indices[index]];
    public int Count => indices.Length;
    public IEnumerator<TokenizedExample> GetEnumerator() => indices.Select(i => all[i]).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
