namespace Federated.Privacy.Accounting;

/// <summary>How Rényi-DP is turned into (ε, δ)-DP.</summary>
public enum RdpConversion
{
    /// <summary>ε = min_α RDP(α) + log(1/δ)/(α − 1) (Mironov 2017; TF-Privacy and Opacus before 1.0).</summary>
    Classic,

    /// <summary>ε = min_α RDP(α) − (log δ + log α)/(α − 1) + log((α − 1)/α) (Balle et al. 2020, arXiv 1905.09982; Opacus ≥ 1.0).</summary>
    Improved,
}

/// <summary>An (ε, δ) guarantee and the Rényi order that gave it.</summary>
public readonly record struct PrivacySpent(double Epsilon, double Delta, double Order);

/// <summary>
/// Rényi-DP accountant of the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, arXiv 1908.10530), a port of
/// Opacus <c>opacus/accountants/analysis/rdp.py</c>: sampling rate q (Poisson), noise multiplier σ (noise std / clip
/// norm), T steps. For integer α: A_α = Σ_{i=0}^{α} C(α,i)(1−q)^{α−i} q^i exp((i² − i)/(2σ²)); for fractional α the
/// two-sided erfc series of the paper (§3.3), summed until both terms fall below e^{−30}. RDP(α) = T·log A_α/(α − 1);
/// q = 1 gives T·α/(2σ²). Cost: O(Σ α) per (q, σ) over the orders; no state.
/// </summary>
public static class RdpAccountant
{
    /// <summary>Opacus's default orders: 1 + x/10 for x = 1…99, then 12…63.</summary>
    public static IReadOnlyList<double> DefaultOrders { get; } =
        [.. Enumerable.Range(1, 99).Select(x => 1 + x / 10.0), .. Enumerable.Range(12, 52).Select(x => (double)x)];

    /// <summary>RDP(α) of T steps at each order (Opacus <c>compute_rdp</c>).</summary>
    public static double[] ComputeRdp(double sampleRate, double noiseMultiplier, long steps, IReadOnlyList<double>? orders = null)
    {
        Check(sampleRate, noiseMultiplier, steps);
        orders ??= DefaultOrders;
        var rdp = new double[orders.Count];
        for (int i = 0; i < rdp.Length; i++)
        {
            if (!(orders[i] > 1)) throw new ArgumentOutOfRangeException(nameof(orders), orders[i], "Every Rényi order must be > 1.");
            rdp[i] = RdpOfOneStep(sampleRate, noiseMultiplier, orders[i]) * steps;
        }
        return rdp;
    }

    /// <summary>The best (ε, order) over the orders for a target δ (Opacus <c>get_privacy_spent</c>).</summary>
    public static PrivacySpent GetPrivacySpent(IReadOnlyList<double> orders, ReadOnlySpan<double> rdp, double delta,
        RdpConversion conversion = RdpConversion.Improved)
    {
        if (orders.Count != rdp.Length) throw new ArgumentException($"{orders.Count} orders but {rdp.Length} RDP values.", nameof(rdp));
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1).");
        double best = double.PositiveInfinity, bestOrder = double.NaN;
        for (int i = 0; i < rdp.Length; i++)
        {
            double a = orders[i];
            double eps = conversion == RdpConversion.Classic
                ? rdp[i] - Math.Log(delta) / (a - 1)
                : rdp[i] - (Math.Log(delta) + Math.Log(a)) / (a - 1) + Math.Log((a - 1) / a);
            if (!double.IsNaN(eps) && eps < best) { best = eps; bestOrder = a; }
        }
        return new PrivacySpent(best, delta, bestOrder);
    }

    /// <summary>ε after <paramref name="steps"/> steps of the sampled Gaussian at (q, σ), for δ.</summary>
    public static PrivacySpent Epsilon(double sampleRate, double noiseMultiplier, long steps, double delta,
        RdpConversion conversion = RdpConversion.Improved, IReadOnlyList<double>? orders = null)
    {
        orders ??= DefaultOrders;
        return GetPrivacySpent(orders, ComputeRdp(sampleRate, noiseMultiplier, steps, orders), delta, conversion);
    }

    /// <summary>
    /// The smallest noise multiplier σ (to relative tolerance <paramref name="tolerance"/>) whose ε after
    /// <paramref name="steps"/> steps at rate q is ≤ <paramref name="targetEpsilon"/>: doubles σ from 1 until the
    /// target is met, then bisects, and returns the upper end (so the guarantee always holds), as Opacus
    /// <c>get_noise_multiplier</c> does. ε is decreasing in σ.
    /// </summary>
    public static double NoiseForTargetEpsilon(double sampleRate, long steps, double delta, double targetEpsilon,
        RdpConversion conversion = RdpConversion.Improved, double tolerance = 1e-4)
    {
        if (!(targetEpsilon > 0) || double.IsInfinity(targetEpsilon)) throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "The target ε must be finite and > 0.");
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be > 0.");
        double Eps(double sigma) => Epsilon(sampleRate, sigma, steps, delta, conversion).Epsilon;
        double low = 0, high = 1;
        while (Eps(high) > targetEpsilon)
        {
            low = high;
            high *= 2;
            if (high > 1e6) throw new ArgumentException($"No noise multiplier up to 1e6 reaches ε = {targetEpsilon} at q = {sampleRate}, T = {steps}, δ = {delta}.", nameof(targetEpsilon));
        }
        while (high - low > tolerance * high)
        {
            double mid = (low + high) / 2;
            if (Eps(mid) > targetEpsilon) low = mid; else high = mid;
        }
        return high;
    }

    private static double RdpOfOneStep(double q, double sigma, double alpha)
    {
        if (q == 0) return 0;
        if (sigma == 0) return double.PositiveInfinity;
        if (q == 1) return alpha / (2 * sigma * sigma);
        if (double.IsPositiveInfinity(alpha)) return double.PositiveInfinity;
        double logA = alpha == Math.Floor(alpha) ? LogAIntegerOrder(q, sigma, (int)alpha) : LogAFractionalOrder(q, sigma, alpha);
        return logA / (alpha - 1);
    }

    // log A_α for integer α: Σ_i C(α,i) q^i (1−q)^{α−i} exp((i² − i)/(2σ²)), accumulated in log space.
    private static double LogAIntegerOrder(double q, double sigma, int alpha)
    {
        double logA = double.NegativeInfinity, logBinomial = 0;   // log C(α, 0)
        for (int i = 0; i <= alpha; i++)
        {
            if (i > 0) logBinomial += Math.Log(alpha - i + 1) - Math.Log(i);
            double s = logBinomial + i * Math.Log(q) + (alpha - i) * Math.Log(1 - q) + (i * (double)i - i) / (2 * sigma * sigma);
            logA = LogSpace.Add(logA, s);
        }
        return logA;
    }

    // log A_α for fractional α (paper §3.3 / Opacus _compute_log_a_for_frac_alpha): two series with erfc tails.
    private static double LogAFractionalOrder(double q, double sigma, double alpha)
    {
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        double z0 = sigma * sigma * Math.Log(1 / q - 1) + 0.5;
        double coefficient = 1;                                    // C(α, i) by the recurrence C(α,i) = C(α,i−1)(α−i+1)/i
        for (int i = 0; ; i++)
        {
            if (i > 0) coefficient *= (alpha - i + 1) / i;
            double logCoefficient = Math.Log(Math.Abs(coefficient));
            double j = alpha - i;
            double logT0 = logCoefficient + i * Math.Log(q) + j * Math.Log(1 - q);
            double logT1 = logCoefficient + j * Math.Log(q) + i * Math.Log(1 - q);
            double logE0 = Math.Log(0.5) + LogSpace.LogErfc((i - z0) / (Math.Sqrt(2) * sigma));
            double logE1 = Math.Log(0.5) + LogSpace.LogErfc((z0 - j) / (Math.Sqrt(2) * sigma));
            double logS0 = logT0 + (i * (double)i - i) / (2 * sigma * sigma) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
            if (coefficient > 0)
            {
                logA0 = LogSpace.Add(logA0, logS0);
                logA1 = LogSpace.Add(logA1, logS1);
            }
            else
            {
                logA0 = LogSpace.Subtract(logA0, logS0);
                logA1 = LogSpace.Subtract(logA1, logS1);
            }
            if (Math.Max(logS0, logS1) < -30 || i > 100_000) break;
        }
        return LogSpace.Add(logA0, logA1);
    }

    private static void Check(double sampleRate, double noiseMultiplier, long steps)
    {
        if (!(sampleRate >= 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "The sampling rate q must be in [0, 1].");
        if (!(noiseMultiplier >= 0) || double.IsInfinity(noiseMultiplier)) throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier σ must be finite and ≥ 0.");
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "The step count must be ≥ 0.");
    }
}
