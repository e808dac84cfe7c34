namespace Federated.Core.Generation;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15; z = mix(state). Owned so that sampling and
/// adapter initialisation are identical on every machine and .NET version (System.Random is not).
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The seed of sub-stream <paramref name="stream"/> of <paramref name="seed"/> (e.g. a client's stream for a round):
    /// one SplitMix64 output of seed ⊕ stream·0xD1B54A32D192ED03, so nearby streams never overlap in practice.
    /// </summary>
    public static ulong Derive(ulong seed, long stream) => Mix(seed ^ ((ulong)stream * 0xD1B54A32D192ED03UL));

    /// <summary>The first output of a generator seeded with <paramref name="seed"/>: a 64-bit mixing function.</summary>
    public static ulong Mix(ulong seed) => new SplitMix64(seed).NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
