using Federated.Core.Optim;
using Federated.Privacy.Gradients;
using Federated.Privacy.Membership;

namespace Federated.Privacy.Tests;

public sealed class MembershipInferenceTests
{
    [Fact]
    public void FromLosses_HandWorked_LossAttackAuc()
    {
        // Arrange: scores −L: members {−1, −2}, non-members {−3, −1.5}; pairs won: (−1>−3), (−1>−1.5), (−2>−3) = 3 of 4.
        // Reference losses make L_ref − L: members {2−1, 2−2} = {1, 0}, non-members {3−3, 1.5−1.5} = {0, 0}:
        // pairs: 1>0, 1>0, 0=0 (½), 0=0 (½) → 3/4.
        double[] members = [1, 2], nonMembers = [3, 1.5];

        // Act
        var result = MembershipInference.FromLosses(members, nonMembers, [2, 2], [3, 1.5]);

        // Assert
        Assert.Equal(0.75, result.LossAttack.Auc, 12);
        Assert.Equal(0.75, result.ReferenceAttack!.Auc, 12);
    }

    [Fact]
    public void Run_TinyModelFineTunedOnMembers_AucClearlyAboveChance()
    {
        // Arrange: fine-tune every weight of the tiny model with the engine's AdamW on the 8 member records (batch 8,
        // 12 steps), keep a second copy of the base model as the reference.
        var tokenizer = TinyModel.LoadTokenizer();
        var examples = TinyModel.Encode(tokenizer);
        var members = examples[..8];
        var nonMembers = examples[8..];
        using var target = TinyModel.LoadModel();
        using var reference = TinyModel.LoadModel();
        var oracle = GradientOracle.ForBaseParameters(target);
        var optimizer = new AdamW(target.Parameters, new AdamWOptions { LearningRate = 5e-3f, WeightDecay = 0 });
        var g = new float[oracle.ElementCount];
        for (int step = 0; step < 12; step++)
        {
            oracle.Gradient(members, g);   // leaves ∇ in the model's gradient arena, which AdamW reads
            optimizer.Step();
        }

        // Act
        var result = MembershipInference.Run(target, reference, members, nonMembers);

        // Assert: members are clearly separated by both attacks; the fine-tuning really lowered the members' loss.
        Assert.True(result.LossAttack.Auc > 0.8, $"loss-attack AUC {result.LossAttack.Auc:F3}");
        Assert.True(result.ReferenceAttack!.Auc > 0.8, $"reference-attack AUC {result.ReferenceAttack.Auc:F3}");
        Assert.True(result.MemberLosses.Average() < result.ReferenceMemberLosses!.Average() - 0.5);
    }

    [Fact]
    public void Run_SameModelForMembersAndNonMembersOfEqualText_AucIsOneHalf()
    {
        // Arrange: members and non-members are the same examples, so every score ties.
        var examples = TinyModel.Encode(TinyModel.LoadTokenizer())[..4];
        using var model = TinyModel.LoadModel();

        // Act
        var result = MembershipInference.Run(model, null, examples, examples);

        // Assert
        Assert.Equal(0.5, result.LossAttack.Auc, 12);
        Assert.Null(result.ReferenceAttack);
    }
}
