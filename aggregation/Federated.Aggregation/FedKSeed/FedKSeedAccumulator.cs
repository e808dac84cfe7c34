using Federated.Core.Seeds;

namespace Federated.Aggregation.FedKSeed;

/// <summary>One client's round result: its data size (the weight aᵢ ∝ n) and its local steps (seed index, g), in any order.</summary>
public sealed record ClientScalars(long SampleCount, IReadOnlyList<SeedScalar> Steps);

/// <summary>
/// The server state of FedKSeed: H[s] for the K seeds of the pool, with H_{r}[s] = H_{r−1}[s] + Σᵢ aᵢ·Lᵢ[s],
/// aᵢ = nᵢ/Σⱼnⱼ, Lᵢ[s] = Σ of client i's g on seed s (docs/fedkseed.md §3). The global model is w_r = w₀ − η·Σₛ H_r[s]·z(s).
/// A client at version v syncs by replaying <see cref="DeltaSince"/>(v): at most K seeds whatever the rounds missed.
/// H is kept in float64; each seed keeps a log of (version, H) at its changes so H at any retained version is a binary search.
/// Memory: K doubles + one entry per (seed, round) change, trimmable with <see cref="TrimHistory"/>.
/// </summary>
public sealed class FedKSeedAccumulator
{
    private readonly double[] _values;
    private readonly long[] _changedAt;
    private readonly List<(long Version, double Value)>[] _history;

    /// <summary>An accumulator at version 0 with H = 0 for <paramref name="seedCount"/> seeds.</summary>
    public FedKSeedAccumulator(int seedCount)
    {
        if (seedCount < 1 || seedCount > SeedPool.MaxCount)
            throw new ArgumentOutOfRangeException(nameof(seedCount), seedCount, $"Seed count K must be in [1, {SeedPool.MaxCount}].");
        _values = new double[seedCount];
        _changedAt = new long[seedCount];
        _history = new List<(long, double)>[seedCount];
        for (int s = 0; s < seedCount; s++) _history[s] = [];
    }

    /// <summary>K.</summary>
    public int SeedCount => _values.Length;

    /// <summary>The last applied round (0 before any).</summary>
    public long Version { get; private set; }

    /// <summary>Oldest version <see cref="DeltaSince"/> can answer besides 0 (raised by <see cref="TrimHistory"/>).</summary>
    public long HistoryStart { get; private set; }

    /// <summary>H[s] for every seed.</summary>
    public ReadOnlySpan<double> Values => _values;

    /// <summary>The round at which H[s] last changed (0 if never).</summary>
    public long ChangedAt(int seedIndex) => _changedAt[CheckIndex(seedIndex)];

    /// <summary>Adds round <paramref name="round"/>'s weighted sums to H; the round must be later than <see cref="Version"/>.</summary>
    public void Apply(long round, IReadOnlyList<ClientScalars> clients)
    {
        if (round <= Version)
            throw new ArgumentOutOfRangeException(nameof(round), round, $"Round must be after the accumulator version {Version}.");
        var increments = RoundIncrement(SeedCount, clients);
        foreach (var (seed, increment) in increments)
        {
            if (increment == 0) continue;
            _values[seed] += increment;
            _changedAt[seed] = round;
            _history[seed].Add((round, _values[seed]));
        }
        Version = round;
    }

    /// <summary>
    /// (seed, ΔH = H_now[s] − H_version[s]) rounded to float32, to replay as w ← w − η·ΔH·z(seed),, for the seeds changed after <paramref name="version"/>, in index order.
    /// Version 0 means from w₀ (the whole H) and is always answerable. Cost O(K + changed·log rounds).
    /// </summary>
    public IReadOnlyList<SeedScalar> DeltaSince(long version)
    {
        if (version < 0 || version > Version)
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Version must be in [0, {Version}].");
        if (version != 0 && version < HistoryStart)
            throw new ArgumentOutOfRangeException(nameof(version), version, $"History before version {HistoryStart} was trimmed; sync from version 0 (full H) instead.");
        var deltas = new List<SeedScalar>();
        for (int s = 0; s < _values.Length; s++)
        {
            if (_changedAt[s] <= version) continue;
            float delta = (float)(_values[s] - ValueAt(s, version));
            if (delta != 0) deltas.Add(new SeedScalar(s, delta));
        }
        return deltas;
    }

    /// <summary>H[s] as it was right after round <paramref name="version"/> (a retained version).</summary>
    public double ValueAt(int seedIndex, long version)
    {
        var log = _history[CheckIndex(seedIndex)];
        if (version == 0) return 0;
        int lo = 0, hi = log.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (log[mid].Version <= version) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found < 0 ? 0 : log[found].Value;
    }

    /// <summary>Forgets the per-seed log before <paramref name="oldestVersion"/>, keeping each seed's value at that version.</summary>
    public void TrimHistory(long oldestVersion)
    {
        if (oldestVersion < HistoryStart || oldestVersion > Version)
            throw new ArgumentOutOfRangeException(nameof(oldestVersion), oldestVersion, $"Must be in [{HistoryStart}, {Version}].");
        for (int s = 0; s < _history.Length; s++)
        {
            var log = _history[s];
            int keepFrom = 0;
            while (keepFrom + 1 < log.Count && log[keepFrom + 1].Version <= oldestVersion) keepFrom++;
            if (keepFrom > 0) log.RemoveRange(0, keepFrom);
        }
        HistoryStart = oldestVersion;
    }

    /// <summary>The state as plain arrays, for persistence.</summary>
    public FedKSeedSnapshot Snapshot()
    {
        var seeds = new List<int>();
        var versions = new List<long>();
        var values = new List<double>();
        for (int s = 0; s < _history.Length; s++)
        foreach (var (v, h) in _history[s]) { seeds.Add(s); versions.Add(v); values.Add(h); }
        return new FedKSeedSnapshot(Version, HistoryStart, (double[])_values.Clone(), (long[])_changedAt.Clone(),
            seeds.ToArray(), versions.ToArray(), values.ToArray());
    }

    /// <summary>Rebuilds an accumulator from <see cref="Snapshot"/>; throws InvalidDataException on inconsistent state.</summary>
    public static FedKSeedAccumulator Restore(FedKSeedSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        int k = snapshot.Values.Length;
        if (k < 1 || k > SeedPool.MaxCount || snapshot.ChangedAt.Length != k)
            throw new InvalidDataException($"FedKSeed snapshot has {k} values and {snapshot.ChangedAt.Length} change marks; expected equal counts in [1, {SeedPool.MaxCount}].");
        int entries = snapshot.HistorySeed.Length;
        if (snapshot.HistoryVersion.Length != entries || snapshot.HistoryValue.Length != entries)
            throw new InvalidDataException("FedKSeed snapshot history arrays differ in length.");
        var accumulator = new FedKSeedAccumulator(k) { Version = snapshot.Version, HistoryStart = snapshot.HistoryStart };
        snapshot.Values.CopyTo(accumulator._values, 0);
        snapshot.ChangedAt.CopyTo(accumulator._changedAt, 0);
        for (int e = 0; e < entries; e++)
        {
            int s = snapshot.HistorySeed[e];
            if ((uint)s >= (uint)k)
                throw new InvalidDataException($"FedKSeed snapshot history entry {e} names seed {s}, outside [0, {k}).");
            var log = accumulator._history[s];
            long v = snapshot.HistoryVersion[e];
            if (v > snapshot.Version || (log.Count > 0 && log[^1].Version >= v))
                throw new InvalidDataException($"FedKSeed snapshot history of seed {s} is not increasing at entry {e}.");
            log.Add((v, snapshot.HistoryValue[e]));
        }
        return accumulator;
    }

    /// <summary>
    /// The pure maths of one round: Σᵢ aᵢ·Lᵢ[s] per touched seed, in seed order. Computed as (Σ nᵢ·g)/Σnᵢ in float64 with the
    /// terms nᵢ·g (exact for nᵢ &lt; 2²⁹) summed in sorted order, so the result does not depend on client or step order.
    /// </summary>
    public static IReadOnlyList<(int SeedIndex, double Increment)> RoundIncrement(int seedCount, IReadOnlyList<ClientScalars> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        long total = 0;
        int steps = 0;
        for (int c = 0; c < clients.Count; c++)
        {
            var client = clients[c] ?? throw new ArgumentException($"Client {c} is null.", nameof(clients));
            if (client.SampleCount <= 0)
                throw new ArgumentException($"Client {c} has sample count {client.SampleCount}; it must be positive.", nameof(clients));
            total = checked(total + client.SampleCount);
            steps += client.Steps.Count;
        }
        var terms = new (int Seed, double Term)[steps];
        int t = 0;
        for (int c = 0; c < clients.Count; c++)
        {
            double weight = clients[c].SampleCount;
            foreach (var step in clients[c].Steps)
            {
                if ((uint)step.SeedIndex >= (uint)seedCount)
                    throw new ArgumentException($"Client {c} uses seed index {step.SeedIndex}, outside [0, {seedCount}).", nameof(clients));
                if (!float.IsFinite(step.Value))
                    throw new ArgumentException($"Client {c} sent a non-finite scalar for seed {step.SeedIndex}.", nameof(clients));
                terms[t++] = (step.SeedIndex, weight * step.Value);
            }
        }
        Array.Sort(terms, static (a, b) => a.Seed != b.Seed ? a.Seed.CompareTo(b.Seed) : a.Term.CompareTo(b.Term));
        var result = new List<(int, double)>();
        for (int i = 0; i < terms.Length;)
        {
            int seed = terms[i].Seed;
            double sum = 0;
            for (; i < terms.Length && terms[i].Seed == seed; i++) sum += terms[i].Term;
            result.Add((seed, sum / total));
        }
        return result;
    }

    private int CheckIndex(int seedIndex) => (uint)seedIndex < (uint)_values.Length
        ? seedIndex
        : throw new ArgumentOutOfRangeException(nameof(seedIndex), seedIndex, $"Seed index must be in [0, {_values.Length}).");
}

/// <summary>Persistent form of <see cref="FedKSeedAccumulator"/>: H, change marks, and the flattened per-seed (version, H) log.</summary>
public sealed record FedKSeedSnapshot(
    long Version, long HistoryStart, double[] Values, long[] ChangedAt, int[] HistorySeed, long[] HistoryVersion, double[] HistoryValue);
