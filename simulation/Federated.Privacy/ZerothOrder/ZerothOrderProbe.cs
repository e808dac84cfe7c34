using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data.Training;
using Federated.Privacy.Gradients;
using Federated.Privacy.Metrics;

namespace Federated.Privacy.ZerothOrder;

/// <summary>One FedKSeed message entry as the server sees it: the seed value (pool[index]) and its scalar.</summary>
public readonly record struct SeedObservation(ulong Seed, float Value);

/// <summary>How much of the client's gradient the (seed, scalar) pairs give away.</summary>
/// <param name="Cosine">cos(ĝ, g): ĝ = Σ_s v_s·z_s, g the true gradient of the client's data at the round-start weights.</param>
/// <param name="SubspaceCosine">cos(ĝ, P g), P the projection onto span{z_s}: how well ĝ finds the part of g the pairs can see at all.</param>
/// <param name="SubspaceCapture">‖P g‖ / ‖g‖ = cos(g, P g): the best cosine ANY reconstruction inside the seed subspace can reach; NaN when the subspace was too large to store.</param>
/// <param name="ChanceCosine">√(K/d), the cosine this estimator is expected to reach (the random-projection estimate below).</param>
/// <param name="Pairs">K, distinct seeds.</param>
/// <param name="Dimension">d, trainable elements.</param>
public sealed record ZoGradientResult(double Cosine, double SubspaceCosine, double SubspaceCapture, double ChanceCosine, int Pairs, long Dimension);

/// <summary>Options of <see cref="ZerothOrderProbe.Membership"/>.</summary>
public sealed record ZoMembershipOptions
{
    /// <summary>ε of the two-point estimate; must be the clients' ε. Default 1e-3.</summary>
    public float Epsilon { get; init; } = 1e-3f;

    /// <summary>False-positive budget of the reported TPR. Default 0.01.</summary>
    public double TargetFpr { get; init; } = 0.01;

    public void Validate()
    {
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be finite and > 0.");
        if (!(TargetFpr > 0 && TargetFpr < 1)) throw new ArgumentOutOfRangeException(nameof(TargetFpr), TargetFpr, "TargetFpr must be in (0, 1).");
    }
}

/// <summary>Scalar-matching membership scores and their ROC.</summary>
/// <param name="Roc">AUC and TPR at the target FPR of score = −min_s |g'_s(x) − v_s|.</param>
/// <param name="MemberResiduals">min_s |g'_s(x) − v_s| of each member.</param>
/// <param name="NonMemberResiduals">The same for each non-member.</param>
public sealed record ZoMembershipResult(RocResult Roc, double[] MemberResiduals, double[] NonMemberResiduals);

/// <summary>
/// What FedKSeed's (seed, scalar) messages reveal. A client step on example x with seed s sends
/// v_s = (L(w+εz_s; x) − L(w−εz_s; x))/(2ε) ≈ z_sᵀ∇L(w; x), z_s regenerated from the seed protocol.
/// <para><b>Gradient recovery</b>: the server's best linear guess is ĝ = Σ_s v_s z_s; with K pairs in d dimensions
/// cos(ĝ, g) ≈ √(K/d), near zero for any real model: the pairs do not give the gradient (or the text) back.</para>
/// <para><b>Scalar matching</b>: for a candidate x the server recomputes g'_s(x) with the same seed at the same
/// weights; the true example reproduces v_s (up to the drift of the client's earlier steps and rounding), a wrong one
/// is off by about ‖∇L(x) − ∇L(x_t)‖. Score(x) = −min_s |g'_s(x) − v_s|. Forward passes only: 2·K per candidate.</para>
/// </summary>
public static class ZerothOrderProbe
{
    /// <summary>Most floats stored for the seed subspace (K·d) before <see cref="ZoGradientResult.SubspaceCapture"/> is skipped.</summary>
    public const long MaxSubspaceFloats = 1L << 27;

    /// <summary>
    /// ĝ from the pairs against the true gradient of <paramref name="clientBatch"/> (what the client trained on) at the
    /// model's current weights, over the trainable tensors. Seeds that repeat are merged (their scalars summed).
    /// </summary>
    public static ZoGradientResult RecoverGradient(CausalLm model, TrainableSet trainable, IReadOnlyList<SeedObservation> observations,
        IReadOnlyList<TokenizedExample> clientBatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainable);
        ArgumentNullException.ThrowIfNull(observations);
        if (observations.Count == 0) throw new ArgumentException("There are no (seed, scalar) pairs.", nameof(observations));
        var merged = observations.GroupBy(o => o.Seed).Select(g => new SeedObservation(g.Key, g.Sum(o => o.Value))).OrderBy(o => o.Seed).ToArray();
        var oracle = GradientOracle.ForTensors(model, trainable.Indices);
        var g = oracle.Gradient(clientBatch);
        int d = g.Length, k = merged.Length;
        bool storeSubspace = (long)k * d <= MaxSubspaceFloats;
        var z = storeSubspace ? new float[k][] : null;
        var estimate = new double[d];
        var zs = new float[d];
        for (int s = 0; s < k; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            FillDirection(merged[s].Seed, trainable, zs);
            double v = merged[s].Value;
            for (int i = 0; i < d; i++) estimate[i] += v * zs[i];
            if (z is not null) z[s] = (float[])zs.Clone();
        }
        var gHat = estimate.Select(x => (float)x).ToArray();
        double cosine = VectorMath.Cosine(gHat, g);
        double subspaceCosine = double.NaN, capture = double.NaN;
        if (z is not null)
        {
            var projected = Project(z, g);
            capture = VectorMath.Cosine(g, projected);
            subspaceCosine = VectorMath.Cosine(gHat, projected);
        }
        return new ZoGradientResult(cosine, subspaceCosine, capture, Math.Sqrt((double)k / d), k, d);
    }

    /// <summary>
    /// min_s |g'_s(x) − v_s| for each candidate x (batch 1, response-only loss) at the model's current weights, which must
    /// be the weights the client started from. The weights are restored exactly after each candidate.
    /// </summary>
    public static double[] Residuals(CausalLm model, TrainableSet trainable, IReadOnlyList<SeedObservation> observations,
        IReadOnlyList<TokenizedExample> candidates, float epsilon, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(candidates);
        if (observations.Count == 0) throw new ArgumentException("There are no (seed, scalar) pairs.", nameof(observations));
        var snapshot = model.Weights.ToArray();
        model.KeepActivationsForBackward = false;
        var residuals = new double[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            var x = candidates[c];
            double best = double.PositiveInfinity;
            foreach (var o in observations)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var r = ZerothOrderStep.Estimate(model, trainable, o.Seed, epsilon, x.Ids, 1, x.Ids.Length, x.LossMask);
                best = Math.Min(best, Math.Abs(r.ProjectedGradient - (double)o.Value));
            }
            residuals[c] = best;
            snapshot.CopyTo(model.Weights);
        }
        return residuals;
    }

    /// <summary>Scalar-matching membership test of members vs non-members against the received pairs.</summary>
    public static ZoMembershipResult Membership(CausalLm model, TrainableSet trainable, IReadOnlyList<SeedObservation> observations,
        IReadOnlyList<TokenizedExample> members, IReadOnlyList<TokenizedExample> nonMembers, ZoMembershipOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ZoMembershipOptions();
        options.Validate();
        var m = Residuals(model, trainable, observations, members, options.Epsilon, cancellationToken);
        var n = Residuals(model, trainable, observations, nonMembers, options.Epsilon, cancellationToken);
        var roc = RocCurve.Evaluate(m.Select(r => -r).ToArray(), n.Select(r => -r).ToArray(), options.TargetFpr);
        return new ZoMembershipResult(roc, m, n);
    }

    // z(seed) over the trainable tensors, flattened in HF order (seed protocol: element i of tensor t is z(seed, t, i)).
    internal static void FillDirection(ulong seed, TrainableSet trainable, Span<float> destination)
    {
        int offset = 0;
        foreach (var t in trainable.Tensors)
        {
            SeedNormal.Fill(seed, t.TensorIndex, 0, destination.Slice(offset, t.Length));
            offset += t.Length;
        }
    }

    // P g = Z (ZᵀZ)⁻¹ Zᵀ g with Z = [z_1 … z_K] (columns), by Cholesky of the K×K Gram matrix in double.
    private static float[] Project(float[][] z, float[] g)
    {
        int k = z.Length, d = g.Length;
        var gram = new double[k, k];
        var rhs = new double[k];
        for (int a = 0; a < k; a++)
        {
            rhs[a] = VectorMath.Dot(z[a], g);
            for (int b = 0; b <= a; b++) gram[a, b] = gram[b, a] = VectorMath.Dot(z[a], z[b]);
        }
        var coef = CholeskySolve(gram, rhs);
        var p = new double[d];
        for (int a = 0; a < k; a++)
            for (int i = 0; i < d; i++) p[i] += coef[a] * z[a][i];
        return [.. p.Select(x => (float)x)];
    }

    private static double[] CholeskySolve(double[,] a, double[] b)
    {
        int n = b.Length;
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (!(s > 0)) throw new InvalidOperationException("The seed directions are linearly dependent (duplicate seeds?).");
                    l[i, i] = Math.Sqrt(s);
                }
                else l[i, j] = s / l[j, j];
            }
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }
}
