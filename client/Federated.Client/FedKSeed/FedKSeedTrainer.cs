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
public sealed record FedKSeedRoundPlan(long Round, int LocalSteps, float Epsilon, float LearningRate, double[] SeedProbabilities);

/// <summary>A client's round result: its steps as (seed index, g), and what it measured.</summary>
public sealed record FedKSeedLocalResult(SeedScalar[] Steps, int DroppedSteps, double MeanLoss);

/// <summary>
/// The client side of FedKSeed: τ MeZO steps on the client's own examples, each along a seed drawn from the shared pool.
/// Per step: perturb +ε·z(s), L+; −2ε·z(s), L−; +ε·z(s) back; g = (L+ − L−)/2ε; w ← w − η·g·z(s); record (s, g).
/// Steps with a non-finite loss are dropped and counted. Nothing but (seed index, g) pairs leaves the client.
/// The example and seed choices come from an owned stream keyed by (client stream seed, round), so a client holds no
/// state between rounds and a simulation and a deployment draw the same steps.
/// </summary>
public sealed class FedKSeedTrainer(ICausalLm model, TrainableSet trainable, ulong[] seedPool)
{
    /// <summary>Runs one round of local steps on <paramref name="shard"/>; the model ends at its locally updated weights.</summary>
    public FedKSeedLocalResult Train(FedKSeedRoundPlan plan, IReadOnlyList<TokenizedExample> shard, ulong clientStreamSeed)
    {
        if (shard.Count == 0) throw new ArgumentException("The client has no training examples.", nameof(shard));
        var sampler = new SeedSampler(seedPool.Length, plan.SeedProbabilities);
        var random = new SplitMix64(SplitMix64.Derive(clientStreamSeed, plan.Round));
        var steps = new List<SeedScalar>(plan.LocalSteps);
        int dropped = 0;
        double lossSum = 0;
        for (int step = 0; step < plan.LocalSteps; step++)
        {
            var example = shard[(int)(random.NextDouble() * shard.Count)];
            int seedIndex = sampler.Next(ref random);
            ulong seed = seedPool[seedIndex];
            var result = ZerothOrderStep.Estimate(model, trainable, seed, plan.Epsilon, example.Ids, 1, example.Ids.Length, example.LossMask);
            if (!result.IsFinite) { dropped++; continue; }
            ZerothOrderStep.Update(model, trainable, seed, plan.LearningRate, result.ProjectedGradient);
            steps.Add(new SeedScalar(seedIndex, result.ProjectedGradient));
            lossSum += 0.5 * (result.LossPlus + result.LossMinus);
        }
        return new FedKSeedLocalResult([.. steps], dropped, steps.Count > 0 ? lossSum / steps.Count : double.NaN);
    }

}
