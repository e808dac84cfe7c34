using Xunit.Sdk;

namespace Federated.TestKit;

/// <summary>Element-wise closeness with a report that names the tensor, the worst index and the difference.</summary>
public static class TensorAssert
{
    /// <summary>Passes when |expected−actual| ≤ atol + rtol·|expected| for every element.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string name)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{name}: length {actual.Length}, expected {expected.Length}.");
        int worst = -1;
        double worstExcess = 0, worstDiff = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double diff = Math.Abs(e - a);
            if (double.IsNaN(a) != double.IsNaN(e)) diff = double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, diff);
            double excess = diff - (atol + rtol * Math.Abs(e));
            if (excess > worstExcess || (double.IsNaN(excess) && worst < 0)) { worst = i; worstExcess = excess; worstDiff = diff; }
        }
        if (worst >= 0)
            throw new XunitException(
                $"{name}: max abs diff {maxDiff:G4}; worst at [{worst}]: expected {expected[worst]:G9}, actual {actual[worst]:G9} " +
                $"(diff {worstDiff:G4} > atol {atol:G3} + rtol {rtol:G3}·|expected|).");
    }
}
