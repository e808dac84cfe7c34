using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Privacy.ZerothOrder;

namespace Federated.Privacy.Tests;

public sealed class ZerothOrderProbeTests
{
    private const float Epsilon = 1e-3f;

    [Fact]
    public void RecoverGradient_SixteenPairs_CosineNearChanceButInsideSubspaceItIsFound()
    {
        // Arrange: a FedKSeed client computes 16 two-point scalars on its example at the round-start weights.
        var tokenizer = TinyModel.LoadTokenizer();
        var example = TinyModel.Encode(tokenizer)[0];
        using var model = TinyModel.LoadModel();
        var trainable = TrainableSet.All(model.Parameters);
        var pool = new SeedPool(42, 16);
        var pairs = new List<SeedObservation>();
        for (int s = 0; s < pool.Count; s++)
        {
            var r = ZerothOrderStep.Estimate(model, trainable, pool[s], Epsilon, example.Ids, 1, example.Ids.Length, example.LossMask);
            pairs.Add(new SeedObservation(pool[s], r.ProjectedGradient));
        }

        // Act
        var result = ZerothOrderProbe.RecoverGradient(model, trainable, pairs, [example]);

        // Assert: cos(ĝ, g) is of the order √(K/d) ≈ 0.01 (d ≈ 1.8e5), far from a usable reconstruction, while ĝ does
        // find the part of g inside the seed subspace (the scalars are honest projections).
        Assert.Equal(16, result.Pairs);
        Assert.True(Math.Abs(result.Cosine) < 0.05, $"cos(ĝ, g) = {result.Cosine:F4}, chance {result.ChanceCosine:F4}");
        Assert.True(Math.Abs(result.Cosine) < 4 * result.ChanceCosine, $"cos(ĝ, g) = {result.Cosine:F4}, chance {result.ChanceCosine:F4}");
        Assert.True(result.SubspaceCapture < 0.05, $"‖Pg‖/‖g‖ = {result.SubspaceCapture:F4}");
        Assert.True(result.SubspaceCosine > 0.9, $"cos(ĝ, Pg) = {result.SubspaceCosine:F4}");
    }

    [Fact]
    public void Membership_ScalarMatchingAfterRealSteps_SeparatesMembers()
    {
        // Arrange: the client runs 4 ZO steps (batch 1, one seed each, lr 1e-4) over its 4 examples, so later scalars
        // are computed at drifted weights; the server holds the round-start weights and the (seed, scalar) pairs.
        var tokenizer = TinyModel.LoadTokenizer();
        var examples = TinyModel.Encode(tokenizer);
        var members = examples[..4];
        var nonMembers = examples[4..12];
        using var model = TinyModel.LoadModel();
        var trainable = TrainableSet.All(model.Parameters);
        var start = model.Weights.ToArray();
        var pool = new SeedPool(7, 8);
        var pairs = new List<SeedObservation>();
        for (int step = 0; step < members.Length; step++)
        {
            var x = members[step];
            ulong seed = pool[step * 2];
            var r = ZerothOrderStep.Estimate(model, trainable, seed, Epsilon, x.Ids, 1, x.Ids.Length, x.LossMask);
            ZerothOrderStep.Update(model, trainable, seed, 1e-4f, r.ProjectedGradient);
            pairs.Add(new SeedObservation(seed, r.ProjectedGradient));
        }
        start.CopyTo(model.Weights);

        // Act
        var result = ZerothOrderProbe.Membership(model, trainable, pairs, members, nonMembers, new ZoMembershipOptions { Epsilon = Epsilon });

        // Assert
        Assert.True(result.Roc.Auc >= 0.95, $"AUC {result.Roc.Auc:F3}; member residuals [{string.Join(", ", result.MemberResiduals.Select(v => v.ToString("G3")))}], non-members min {result.NonMemberResiduals.Min():G3}");
        Assert.True(result.MemberResiduals.Max() < result.NonMemberResiduals.Min());
    }

    [Fact]
    public void Residuals_LeaveWeightsUnchanged()
    {
        var example = TinyModel.Encode(TinyModel.LoadTokenizer())[0];
        using var model = TinyModel.LoadModel();
        var before = model.Weights.ToArray();

        ZerothOrderProbe.Residuals(model, TrainableSet.All(model.Parameters), [new SeedObservation(3, 0.5f)], [example], Epsilon);

        Assert.Equal(before, model.Weights.ToArray());
    }
}
