namespace Federated.Data.Pretraining;

/// <summary>
/// Linear warm-up then cosine decay (as nanoGPT / llm.c), for 0-based step s of S total steps:
///   s &lt; W:  lr = peak · (s + 1) / W
///   else:   lr = min + ½ (peak − min)(1 + cos(π · (s − W) / max(1, S − W)))   with min = peak · minRatio,
/// so the last step (s = S − 1) is near min and a step past the end stays at min.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate of step <paramref name="step"/> (0-based).</summary>
    public static double WarmupCosine(int step, double peak, int warmupSteps, int totalSteps, double minRatio)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "Step must be ≥ 0.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warm-up steps must be ≥ 0.");
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Total steps must be ≥ 1.");
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double min = peak * minRatio;
        if (step >= totalSteps) return min;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return min + 0.5 * (peak - min) * (1 + Math.Cos(Math.PI * progress));
    }
}
