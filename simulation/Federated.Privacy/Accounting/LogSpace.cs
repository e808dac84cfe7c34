namespace Federated.Privacy.Accounting;

/// <summary>
/// Log-space helpers of the RDP accountant: log(e^x + e^y), log(e^x − e^y) and log erfc(x) to full double precision
/// for any x (erfc(x) = Q(½, x²) for x ≥ 0, the regularised upper incomplete gamma: series below x² = 1.5, Lentz's
/// continued fraction above, evaluated in log space so it never underflows; erfc(−x) = 2 − erfc(x)).
/// </summary>
internal static class LogSpace
{
    private static readonly double LogGammaHalf = 0.5 * Math.Log(Math.PI);   // lnΓ(½) = ln √π

    /// <summary>log(e^x + e^y).</summary>
    public static double Add(double logX, double logY)
    {
        double a = Math.Min(logX, logY), b = Math.Max(logX, logY);
        if (double.IsNegativeInfinity(a)) return b;
        return Math.Log(1 + Math.Exp(a - b)) + b;
    }

    /// <summary>log(e^x − e^y), x ≥ y.</summary>
    public static double Subtract(double logX, double logY)
    {
        if (logX < logY) throw new ArgumentException("log(e^x − e^y) needs x ≥ y.", nameof(logX));
        if (double.IsNegativeInfinity(logY)) return logX;
        if (logX == logY) return double.NegativeInfinity;
        double d = logX - logY;
        // log(expm1(d)) + y; for large d expm1 overflows, and log(expm1(d)) → d.
        return d > 700 ? logX : Math.Log(ExpM1(d)) + logY;
    }

    /// <summary>log erfc(x).</summary>
    public static double LogErfc(double x)
    {
        if (x < 0) return Math.Log(2 - Math.Exp(LogErfcPositive(-x)));
        return LogErfcPositive(x);
    }

    private static double LogErfcPositive(double x)
    {
        if (x == 0) return 0;
        double s = x * x;
        if (s < 1.5) return Math.Log(1 - LowerGammaHalfSeries(s));
        return UpperGammaHalfContinuedFractionLog(s);
    }

    // P(½, s) = e^{−s} s^{½} / Γ(½) · Σ_n s^n / (½(½+1)…(½+n)).
    private static double LowerGammaHalfSeries(double s)
    {
        const double a = 0.5;
        double ap = a, sum = 1 / a, term = sum;
        for (int n = 0; n < 500; n++)
        {
            ap += 1;
            term *= s / ap;
            sum += term;
            if (Math.Abs(term) < Math.Abs(sum) * 1e-17) break;
        }
        return sum * Math.Exp(-s + a * Math.Log(s) - LogGammaHalf);
    }

    // log Q(½, s) by the modified Lentz continued fraction: Q = e^{−s} s^{½} / Γ(½) · 1/(s+1−a− 1(1−a)/(s+3−a− …)).
    private static double UpperGammaHalfContinuedFractionLog(double s)
    {
        const double a = 0.5, tiny = 1e-300;
        double b = s + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 1000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return -s + a * Math.Log(s) - LogGammaHalf + Math.Log(h);
    }

    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
}
