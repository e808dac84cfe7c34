namespace Federated.Data.Partitioning;

/// <summary>IID: shuffle all records, deal equal consecutive chunks (sizes differ by at most one).</summary>
public sealed class IidPartitioner : Partitioner
{
    /// <inheritdoc/>
    public override string Scheme => "iid";

    /// <inheritdoc/>
    public override int[][] Partition(IReadOnlyList<string> categories, int clientCount, Random random)
    {
        CheckCounts(categories.Count, clientCount);
        var order = Enumerable.Range(0, categories.Count).ToArray();
        Shuffle(order, random);
        return Slice(order, EqualSizes(order.Length, clientCount));
    }
}
