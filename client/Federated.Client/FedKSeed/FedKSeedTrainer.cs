using Federated.Client.Privacy;
using Federated.Core.Generation;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data.Training;

namespace Federated.Client.FedKSeed;

/// <summary>What a FedKSeed round asks of a client (docs/fedkseed.md §client step).</summary>
/// <param name="Round">Round number (1-based).</param>
/// <param name="LocalSteps">τ, zeroth-order steps per round (batch size 1).</param>
/// <param name="Epsilon">ε, the perturbation scale.</param>
/// <param name="LearningRate">η, constant (seed replay is exact only with a constant η and no weight decay).</param>
/// <param name="SeedProbabilities">FedKSeed-Pro probabilities over the K seeds, or empty for uniform.</param>
/// <param name="MaxAbsScalar">G, the server's bound on every scalar: a step with |g| &gt; G is dropped like a non-finite one
/// (the server would refuse the whole update). 0 = no bound.</param>
public sealed record FedKSeedRoundPlan(long Round, int LocalSteps, float Epsilon, float LearningRate, double[] SeedProbabilities,
    float MaxAbsScalar = 0);

/// <summary>A client's round result: its steps as (seed index, g), and what it measured.</summary>
public sealed record FedKSeedLocalResult(SeedScalar[] Steps, int DroppedSteps, double MeanLoss)
{
    /// <summary>Shard-local index of the example of each recorded step (aligned with <see cref="Steps"/>). The client's
    /// secret: the simulator's capture keeps it only as ground truth for scoring privacy probes.</summary>
    public int[] ExampleIndices { get; init; } = [];

    /// <summary>q = 1 / |shard|, the per-step sampling rate an RDP accountant needs (one example per step, drawn with
    /// replacement, not Poisson-sampled).</summary>
    public double SamplingRate { get; init; }
}

/// <summary>Client-side options of FedKSeed local training (defaults: none of them on).</summary>
public sealed record FedKSeedTrainerOptions
{
    /// <summary>DPZero-style clip C of each projected gradient g to [−C, C]; 0 = DP off (default).</summary>
    public double DpClipNorm { get; init; }

    /// <summary>σ: N(0, σ²C²) is added to the clipped g before the local update and before it is recorded; 0 = clip only.</summary>
    public double DpNoiseMultiplier { get; init; }

    /// <summary>True when the scalar clip (and optional noise) is on.</summary>
    public bool DpEnabled => DpClipNorm > 0;

    /// <summary>Checks ranges; throws ArgumentOutOfRangeException naming the option.</summary>
    public void Validate() => DpNoise.Validate(DpClipNorm, DpNoiseMultiplier, nameof(DpClipNorm), nameof(DpNoiseMultiplier));
}

/// <summary>
/// The client side of FedKSeed: τ MeZO steps on the client's own examples, each along a seed drawn from the shared pool.
/// Per step: perturb +ε·z(s), L+; −2ε·z(s), L−; +ε·z(s) back; g = (L+ − L−)/2ε; w ← w − η·g·z(s); record (s, g).
/// Steps with a non-finite loss or a g beyond the round's bound G are dropped and counted. Nothing but (seed index, g)
/// pairs leaves the client.
/// The example and seed choices come from an owned stream keyed by (client stream seed, round), so a client holds no
/// state between rounds and a simulation and a deployment draw the same steps.
/// With <see cref="FedKSeedTrainerOptions.DpEnabled"/> (DPZero, Zhang et al. arXiv 2310.09639) each g becomes
/// clip(g, −C, C) + σ·C·ζ, ζ ~ N(0, 1) from <see cref="DpNoise"/>(client stream, round) at the step's index, before the
/// update and the record: the only data-dependent number that leaves the client is a clipped, noised scalar.
/// </summary>
public sealed class FedKSeedTrainer(ICausalLm model, TrainableSet trainable, ulong[] seedPool, FedKSeedTrainerOptions? options = null)
{
    private readonly FedKSeedTrainerOptions _options = Validated(options ?? new FedKSeedTrainerOptions());

    private static FedKSeedTrainerOptions Validated(FedKSeedTrainerOptions options)
    {
        options.Validate();
        return options;
    }

    /// <summary>Runs one round of local steps on <paramref name="shard"/>; the model ends at its locally updated weights.</summary>
    public FedKSeedLocalResult Train(FedKSeedRoundPlan plan, IReadOnlyList<TokenizedExample> shard, ulong clientStreamSeed)
    {
        if (shard.Count == 0) throw new ArgumentException("The client has no training examples.", nameof(shard));
        var sampler = new SeedSampler(seedPool.Length, plan.SeedProbabilities);
        var random = new SplitMix64(SplitMix64.Derive(clientStreamSeed, plan.Round));
        var steps = new List<SeedScalar>(plan.LocalSteps);
        var examples = new List<int>(plan.LocalSteps);
        ulong noiseSeed = DpNoise.Seed(clientStreamSeed, plan.Round);
        int dropped = 0;
        double lossSum = 0;
        for (int step = 0; step < plan.LocalSteps; step++)
        {
            int exampleIndex = (int)(random.NextDouble() * shard.Count);
            var example = shard[exampleIndex];
            int seedIndex = sampler.Next(ref random);
            ulong seed = seedPool[seedIndex];
            var result = ZerothOrderStep.Estimate(model, trainable, seed, plan.Epsilon, example.Ids, 1, example.Ids.Length, example.LossMask);
            if (!result.IsFinite) { dropped++; continue; }
            float g = _options.DpEnabled ? Privatize(result.ProjectedGradient, noiseSeed, step) : result.ProjectedGradient;
            if (plan.MaxAbsScalar > 0 && Math.Abs(g) > plan.MaxAbsScalar) { dropped++; continue; }   // (with DP: of g̃, post-processing)
            ZerothOrderStep.Update(model, trainable, seed, plan.LearningRate, g);
            steps.Add(new SeedScalar(seedIndex, g));
            examples.Add(exampleIndex);
            lossSum += 0.5 * (result.LossPlus + result.LossMinus);
        }
        return new FedKSeedLocalResult([.. steps], dropped, steps.Count > 0 ? lossSum / steps.Count : double.NaN)
        {
            ExampleIndices = [.. examples], SamplingRate = 1.0 / shard.Count,
        };
    }

    /// <summary>g̃ = clip(g, −C, C) + σ·C·ζ(noiseSeed, step), computed in float64 and rounded once.</summary>
    private float Privatize(float g, ulong noiseSeed, int step)
    {
        double c = _options.DpClipNorm;
        double clipped = Math.Clamp((double)g, -c, c);
        double noise = _options.DpNoiseMultiplier > 0 ? _options.DpNoiseMultiplier * c * DpNoise.At(noiseSeed, step) : 0;
        return (float)(clipped + noise);
    }

}
