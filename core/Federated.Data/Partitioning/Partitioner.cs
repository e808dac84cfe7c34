using System.Buffers.Binary;
using System.Numerics;
using MathNet.Numerics.Random;

namespace Federated.Data.Partitioning;

/// <summary>
/// Splits records over clients from their categories alone. Implementations return, per client, positions into
/// <c>categories</c>; every position appears at most once. They draw randomness only from the <see cref="Random"/>
/// they are given (a seeded MathNet Mersenne Twister in <see cref="PartitionScheme.Apply"/>), so a seed fixes the result.
/// </summary>
public abstract class Partitioner
{
    /// <summary>The scheme string that parses back to this partitioner, e.g. "dirichlet:0.5".</summary>
    public abstract string Scheme { get; }

    /// <summary>Assigns record positions 0..categories.Count-1 to <paramref name="clientCount"/> clients.</summary>
    public abstract int[][] Partition(IReadOnlyList<string> categories, int clientCount, Random random);

    /// <inheritdoc/>
    public override string ToString() => Scheme;

    /// <summary>Throws unless 1 ≤ clientCount ≤ record count.</summary>
    protected static void CheckCounts(int recordCount, int clientCount)
    {
        if (clientCount < 1) throw new ArgumentOutOfRangeException(nameof(clientCount), $"Client count must be at least 1, got {clientCount}.");
        if (recordCount < clientCount)
            throw new ArgumentException($"Only {recordCount} records to share among {clientCount} clients; every client needs at least one.");
    }

    /// <summary>Fisher–Yates shuffle in place: for i = n-1..1 swap a[i] with a[Next(i+1)].</summary>
    internal static void Shuffle(Span<int> items, Random random)
    {
        var scratch = new byte[4];
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = random is RandomSource && i < NextBelowLimit ? NextBelow(random, i + 1, scratch) : random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Largest bound <see cref="NextBelow"/> is used (and tested) for.</summary>
    internal const int NextBelowLimit = 1 << 24;

    /// <summary>
    /// The value MathNet's <c>RandomSource.Next(maxExclusive)</c> returns (2 ≤ max ≤ 2²⁴), drawn the same way — the top ⌈log₂ max⌉
    /// bits of 4 sampled bytes, rejected until below max — but into a reused buffer: MathNet 5 allocates a byte[4] per
    /// call, which made a 1,000-client Dirichlet partition (≈ 20M draws) allocate hundreds of MB.
    /// PartitionerRandomTests pins the equality, so a MathNet upgrade that changes the draw fails a test.
    /// </summary>
    internal static int NextBelow(Random random, int maxExclusive, byte[] scratch)
    {
        int bits = BitOperations.Log2((uint)maxExclusive);
        if ((1 << bits) != maxExclusive) bits++;
        int sample;
        do
        {
            random.NextBytes(scratch);
            sample = (int)(BinaryPrimitives.ReadUInt32LittleEndian(scratch) >> (32 - bits));
        } while (sample >= maxExclusive);
        return sample;
    }

    /// <summary>Positions grouped by category, categories in ordinal order.</summary>
    internal static SortedDictionary<string, List<int>> ByCategory(IReadOnlyList<string> categories)
    {
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < categories.Count; i++)
        {
            if (!groups.TryGetValue(categories[i], out var list)) groups[categories[i]] = list = [];
            list.Add(i);
        }
        return groups;
    }

    /// <summary>Splits <paramref name="items"/> into consecutive chunks of the given sizes (which sum to its length).</summary>
    internal static int[][] Slice(int[] items, int[] sizes)
    {
        var result = new int[sizes.Length][];
        int offset = 0;
        for (int c = 0; c < sizes.Length; c++)
        {
            result[c] = items[offset..(offset + sizes[c])];
            offset += sizes[c];
        }
        return result;
    }

    /// <summary>n split into k sizes differing by at most one (the first n mod k get one more).</summary>
    internal static int[] EqualSizes(int n, int k)
    {
        var sizes = new int[k];
        for (int c = 0; c < k; c++) sizes[c] = n / k + (c < n % k ? 1 : 0);
        return sizes;
    }
}
