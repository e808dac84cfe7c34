using Federated.Core.Models;
using Federated.Data.Training;
using Federated.Privacy.Metrics;

namespace Federated.Privacy.Membership;

/// <summary>Options of <see cref="MembershipInference"/>.</summary>
public sealed record MembershipOptions
{
    /// <summary>False-positive budget of the reported TPR. Default 0.01 (TPR at 1% FPR).</summary>
    public double TargetFpr { get; init; } = 0.01;

    public void Validate()
    {
        if (!(TargetFpr > 0 && TargetFpr < 1)) throw new ArgumentOutOfRangeException(nameof(TargetFpr), TargetFpr, "TargetFpr must be in (0, 1).");
    }
}

/// <summary>Both attacks' ROC statistics and the per-example losses they were computed from.</summary>
/// <param name="LossAttack">Score −L_target(x) (Yeom et al. 2018).</param>
/// <param name="ReferenceAttack">Score L_ref(x) − L_target(x) (reference-calibrated), or null without a reference model.</param>
/// <param name="MemberLosses">L_target of each member, in input order.</param>
/// <param name="NonMemberLosses">L_target of each non-member.</param>
/// <param name="ReferenceMemberLosses">L_ref of each member, or null.</param>
/// <param name="ReferenceNonMemberLosses">L_ref of each non-member, or null.</param>
public sealed record MembershipResult(RocResult LossAttack, RocResult? ReferenceAttack,
    double[] MemberLosses, double[] NonMemberLosses, double[]? ReferenceMemberLosses, double[]? ReferenceNonMemberLosses);

/// <summary>
/// Membership inference on a model the server (or anyone) holds: is x in the training data? Loss-threshold attack:
/// s(x) = −L_target(x), members have lower loss. Reference attack: s(x) = L_ref(x) − L_target(x), which cancels how
/// hard x is in itself (reference = the base model before fine-tuning). L is the mean response-only next-token
/// cross-entropy of one example (batch 1, as the task evaluator scores it). Reported as ROC AUC and TPR at a low FPR
/// over the given members vs non-members. Cost: one forward per example and model. Deterministic (no sampling).
/// </summary>
public static class MembershipInference
{
    /// <summary>Mean response-only loss of each example under <paramref name="model"/> (batch 1, no gradients).</summary>
    public static double[] ExampleLosses(ICausalLm model, IReadOnlyList<TokenizedExample> examples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        model.KeepActivationsForBackward = false;
        var losses = new double[examples.Count];
        for (int i = 0; i < losses.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var e = examples[i];
            if (e.TargetCount == 0) throw new ArgumentException($"Example {i} has no target token (empty loss mask).", nameof(examples));
            losses[i] = model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
        }
        return losses;
    }

    /// <summary>
    /// Runs both attacks: <paramref name="target"/> is the model under audit, <paramref name="reference"/> (optional)
    /// the calibration model. For a LoRA model whose reference is its own base, compute the losses with the adapter
    /// attached and detached and call <see cref="FromLosses"/>.
    /// </summary>
    public static MembershipResult Run(ICausalLm target, ICausalLm? reference, IReadOnlyList<TokenizedExample> members,
        IReadOnlyList<TokenizedExample> nonMembers, MembershipOptions? options = null, CancellationToken cancellationToken = default)
    {
        var memberLosses = ExampleLosses(target, members, cancellationToken);
        var nonMemberLosses = ExampleLosses(target, nonMembers, cancellationToken);
        double[]? refMembers = null, refNonMembers = null;
        if (reference is not null)
        {
            refMembers = ExampleLosses(reference, members, cancellationToken);
            refNonMembers = ExampleLosses(reference, nonMembers, cancellationToken);
        }
        return FromLosses(memberLosses, nonMemberLosses, refMembers, refNonMembers, options);
    }

    /// <summary>Both attacks from precomputed losses (reference losses optional, both or neither).</summary>
    public static MembershipResult FromLosses(double[] memberLosses, double[] nonMemberLosses,
        double[]? referenceMemberLosses = null, double[]? referenceNonMemberLosses = null, MembershipOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(memberLosses);
        ArgumentNullException.ThrowIfNull(nonMemberLosses);
        options ??= new MembershipOptions();
        options.Validate();
        if ((referenceMemberLosses is null) != (referenceNonMemberLosses is null))
            throw new ArgumentException("Give reference losses for both members and non-members, or for neither.", nameof(referenceMemberLosses));
        var loss = RocCurve.Evaluate(Negate(memberLosses), Negate(nonMemberLosses), options.TargetFpr);
        RocResult? calibrated = null;
        if (referenceMemberLosses is not null && referenceNonMemberLosses is not null)
        {
            calibrated = RocCurve.Evaluate(Difference(referenceMemberLosses, memberLosses), Difference(referenceNonMemberLosses, nonMemberLosses), options.TargetFpr);
        }
        return new MembershipResult(loss, calibrated, memberLosses, nonMemberLosses, referenceMemberLosses, referenceNonMemberLosses);
    }

    private static double[] Negate(double[] x) => [.. x.Select(v => -v)];

    private static double[] Difference(double[] reference, double[] target)
    {
        if (reference.Length != target.Length) throw new ArgumentException($"{reference.Length} reference losses for {target.Length} examples.", nameof(reference));
        var d = new double[target.Length];
        for (int i = 0; i < d.Length; i++) d[i] = reference[i] - target[i];
        return d;
    }
}
