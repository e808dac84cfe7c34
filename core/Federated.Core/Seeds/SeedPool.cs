namespace Federated.Core.Seeds;

/// <summary>
/// The K candidate seeds of a FedKSeed run, derived from one 64-bit master seed so that a run manifest carries 8 bytes
/// instead of 8·K (docs/fedkseed.md §2). It lives in Core, not Aggregation, because clients derive the same seeds.
/// Seed i is the first 64 bits of Philox4x32-10 under key (master lo, master hi) at counter
/// (j lo, j hi, 0, <see cref="DomainPool"/>) for j = 0, 1, 2, …: seed = X0 | X1 ≪ 32, skipping a value already taken
/// (probability ≈ K²/2⁶⁵, so j = i in practice). Indices fit the uint16 of the wire format: K ≤ 65,536.
/// </summary>
public sealed class SeedPool
{
    /// <summary>Counter word 3 for seed-pool derivation: ASCII "POOL" (normals use "NRM1", so the streams never meet).</summary>
    public const uint DomainPool = 0x504F4F4C;

    /// <summary>Largest pool: seed indices travel as uint16.</summary>
    public const int MaxCount = 1 << 16;

    private readonly ulong[] _seeds;

    /// <summary>Derives <paramref name="count"/> distinct seeds from <paramref name="masterSeed"/>.</summary>
    public SeedPool(ulong masterSeed, int count)
    {
        if (count < 1 || count > MaxCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Seed pool size K must be in [1, {MaxCount}].");
        MasterSeed = masterSeed;
        _seeds = Derive(masterSeed, count);
    }

    /// <summary>The master seed the pool was derived from.</summary>
    public ulong MasterSeed { get; }

    /// <summary>K, the number of candidate seeds.</summary>
    public int Count => _seeds.Length;

    /// <summary>The seed at <paramref name="index"/>, the key of SeedNormal for that candidate.</summary>
    public ulong this[int index] => (uint)index < (uint)_seeds.Length
        ? _seeds[index]
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"Seed index must be in [0, {_seeds.Length}).");

    /// <summary>All K seeds in index order.</summary>
    public ReadOnlySpan<ulong> Seeds => _seeds;

    /// <summary>The derivation rule of the class summary, as a pure function.</summary>
    public static ulong[] Derive(ulong masterSeed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var seeds = new ulong[count];
        var taken = new HashSet<ulong>(count);
        uint k0 = (uint)masterSeed, k1 = (uint)(masterSeed >> 32);
        int filled = 0;
        for (ulong j = 0; filled < count; j++)
        {
            var (x0, x1, _, _) = Philox4x32.Block((uint)j, (uint)(j >> 32), 0, DomainPool, k0, k1);
            ulong seed = x0 | ((ulong)x1 << 32);
            if (taken.Add(seed)) seeds[filled++] = seed;
        }
        return seeds;
    }
}
