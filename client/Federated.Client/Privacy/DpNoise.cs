using Federated.Core.Generation;
using Federated.Core.Seeds;

namespace Federated.Client.Privacy;

/// <summary>
/// What the two client-side DP defences share (docs/privacy-defences.md): the validation of (C, σ) and the owned noise
/// stream. The Gaussian noise of a client's round is the seed protocol's normal z(noiseSeed, step, element)
/// (<see cref="SeedNormal"/>: Philox4x32-10 + Box–Muller, bit-identical on every machine) with
/// noiseSeed = SplitMix64.Derive(clientStreamSeed ⊕ <see cref="Domain"/>, round): independent of the batch and seed
/// choices (which come from SplitMix64.Derive(clientStreamSeed, round)), so turning DP on changes no other draw.
/// </summary>
public static class DpNoise
{
    /// <summary>XOR-ed into the client stream seed before deriving the noise seed: ASCII "DPNOISE1".</summary>
    public const ulong Domain = 0x4450_4E4F_4953_4531UL;

    /// <summary>The seed of a client's DP noise in round <paramref name="round"/>.</summary>
    public static ulong Seed(ulong clientStreamSeed, long round) => SplitMix64.Derive(clientStreamSeed ^ Domain, round);

    /// <summary>destination[i] = z(seed, step, i) ~ N(0, 1): the noise of local step <paramref name="step"/>.</summary>
    public static void Fill(ulong seed, int step, Span<float> destination) => SeedNormal.Fill(seed, step, 0, destination);

    /// <summary>One N(0, 1) draw for local step <paramref name="step"/> (the zeroth-order scalar's noise).</summary>
    public static float At(ulong seed, int step) => SeedNormal.At(seed, step, 0);

    /// <summary>
    /// Checks a (clip norm C, noise multiplier σ) pair: C ≥ 0 (0 = DP off), σ ≥ 0, both finite, and σ > 0 only with
    /// C > 0 (noise N(0, σ²C²) is meaningless without a clip). Throws ArgumentOutOfRangeException naming the option.
    /// </summary>
    public static void Validate(double clipNorm, double noiseMultiplier, string clipName, string noiseName)
    {
        if (!(clipNorm >= 0) || !double.IsFinite(clipNorm))
            throw new ArgumentOutOfRangeException(clipName, clipNorm, $"{clipName} (DP clip norm C) must be finite and ≥ 0 (0 = off).");
        if (!(noiseMultiplier >= 0) || !double.IsFinite(noiseMultiplier))
            throw new ArgumentOutOfRangeException(noiseName, noiseMultiplier, $"{noiseName} (DP noise multiplier σ) must be finite and ≥ 0.");
        if (noiseMultiplier > 0 && clipNorm == 0)
            throw new ArgumentOutOfRangeException(noiseName, noiseMultiplier, $"{noiseName} needs a clip norm: set {clipName} > 0 (the noise is N(0, σ²C²)).");
    }
}
