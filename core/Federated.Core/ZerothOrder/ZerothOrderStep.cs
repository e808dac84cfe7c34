using Federated.Core.Models;

namespace Federated.Core.ZerothOrder;

/// <summary>The outcome of one two-forward step: both losses and the projected gradient g = (L+ − L−) / 2ε.</summary>
public readonly record struct ZerothOrderResult(float LossPlus, float LossMinus, float ProjectedGradient)
{
    /// <summary>False when a loss was NaN or infinite: the step must be dropped (nothing recorded, nothing updated).</summary>
    public bool IsFinite => float.IsFinite(LossPlus) && float.IsFinite(LossMinus) && float.IsFinite(ProjectedGradient);
}

/// <summary>
/// MeZO's SPSA estimate along one seeded direction (Malladi et al. 2023; FedKSeed, Qin et al. 2024):
/// w + εz → L+, w − εz → L−, back to w, g = (L+ − L−)/(2ε). Three in-place perturbation passes and two forwards;
/// the caller then applies the update w ← w − η·g·z with <see cref="Update"/>. Dropout is never used (eval mode).
/// </summary>
public static class ZerothOrderStep
{
    /// <summary>Estimates g on one batch [batchSize, seqLen]; the weights are back at w (up to float32 rounding) afterwards.</summary>
    public static ZerothOrderResult Estimate(ICausalLm model, TrainableSet trainable, ulong seed, float epsilon,
        ReadOnlySpan<int> inputIds, int batchSize, int seqLen, ReadOnlySpan<bool> lossMask = default)
    {
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Perturbation scale ε must be positive.");
        SeedPerturbation.Apply(model, trainable, seed, epsilon);
        float lossPlus = model.ForwardLoss(inputIds, batchSize, seqLen, lossMask);
        SeedPerturbation.Apply(model, trainable, seed, -2 * epsilon);
        float lossMinus = model.ForwardLoss(inputIds, batchSize, seqLen, lossMask);
        SeedPerturbation.Apply(model, trainable, seed, epsilon);
        float g = (float)(((double)lossPlus - lossMinus) / (2.0 * epsilon));
        return new ZerothOrderResult(lossPlus, lossMinus, g);
    }

    /// <summary>The SGD step along the same direction: w ← w − η·g·z(seed).</summary>
    public static void Update(ICausalLm model, TrainableSet trainable, ulong seed, float learningRate, float projectedGradient) =>
        SeedPerturbation.Apply(model, trainable, seed, -learningRate * projectedGradient);
}
