using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data.Evaluation;
using Federated.Data.Training;
using Federated.TestKit;

namespace Federated.Data.Tests.Evaluation;

public sealed class PairedComparisonTests
{
    [Fact]
    public void Of_HandWorkedPairs_GivesMeanSeTAndInterval()
    {
        // Arrange: d = model − base = [2, 3, 2, 3]. By hand: mean 2.5; sample variance Σ(d − 2.5)²/3 = 4·0.25/3 = 1/3,
        // sd = 0.5773503, se = sd/√4 = 0.2886751, t = 2.5/se = 8.6602540 (= 5√3). 95%: t(0.975, 3) = 3.1824463 (table
        // value), half-width 0.9186931 → [1.5813069, 3.4186931]. Two-sided p from the closed-form Student-t CDF for 3 d.f.,
        // F(t) = 1/2 + (1/π)(t/(√3(1 + t²/3)) + atan(t/√3)), evaluated once in Python: p = 2(1 − F(8.660254)) = 0.0032390.
        double[] model = [3, 5, 4, 6], baseline = [1, 2, 2, 3];

        // Act
        var d = PairedComparison.Of(model, baseline);

        // Assert
        Assert.Equal(4, d.Count);
        Assert.Equal(2.5, d.Mean, 12);
        Assert.Equal(0.28867513459481287, d.StandardError, 12);
        Assert.Equal(8.660254037844387, d.T, 10);
        Assert.Equal(0.003239037076544271, d.PValue, 9);
        Assert.Equal(1.5813068844813005, d.Lower95, 8);
        Assert.Equal(3.4186931155186997, d.Upper95, 8);
    }

    [Fact]
    public void OfWeighted_HandWorkedLosses_IsTheTokenWeightedDifferenceWithRatioSe()
    {
        // Arrange: tokens n = [1, 3, 2, 2], d = l − b = [0.4, 0, 0.2, −0.2].
        // Δ = Σ n d / Σ n = (0.4 + 0 + 0.4 − 0.4)/8 = 0.05; n̄ = 2; e_i = Δ + (n_i/n̄)(d_i − Δ) = [0.225, −0.025, 0.2, −0.2]
        // (mean 0.05). Deviations [0.175, −0.075, 0.15, −0.25], squares sum 0.12125, /3 = 0.0404167, sd = 0.2010390,
        // se = 0.1005195, t = 0.4974160; p (3 d.f., closed form as above, Python) = 0.6530678.
        double[] model = [2.4, 3.0, 1.7, 2.8], baseline = [2.0, 3.0, 1.5, 3.0];
        int[] tokens = [1, 3, 2, 2];

        // Act
        var d = PairedComparison.OfWeighted(model, baseline, tokens);

        // Assert
        Assert.Equal(4, d.Count);
        Assert.Equal(0.05, d.Mean, 12);
        Assert.Equal(0.10051948401512349, d.StandardError, 12);
        Assert.Equal(0.497416003373807, d.T, 9);
        Assert.Equal(0.6530677673299117, d.PValue, 7);
    }

    [Fact]
    public void Summarize_AllZeroDifferences_GivesZeroMeanSeAndT()
    {
        var d = PairedComparison.Summarize([0.0, 0.0, 0.0]);

        Assert.Equal((0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 3), (d.Mean, d.StandardError, d.T, d.PValue, d.Lower95, d.Upper95, d.Count));
    }

    [Fact]
    public void Summarize_AccuracyDifferencesSummingToZero_HasMeanExactlyZero()
    {
        // Arrange: per-example exact-match differences in {−1, 0, 1}; by hand Σd = 0, Σd² = 6, variance 6/6 = 1,
        // se = 1/√7 = 0.3779645, t = 0, p = 1.
        double[] differences = [1, -1, 1, -1, 0, 1, -1];

        // Act
        var d = PairedComparison.Summarize(differences);

        // Assert
        Assert.Equal(0.0, d.Mean);
        Assert.Equal(0.37796447300922725, d.StandardError, 12);
        Assert.Equal(0.0, d.T);
        Assert.Equal(1.0, d.PValue, 12);
    }

    [Fact]
    public void Of_DifferentCounts_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => PairedComparison.Of([1.0, 2.0], [1.0]));

        Assert.Contains("2 scores against 1", error.Message);
    }

    private static DetailedEvaluation EvaluateFixture(string folder)
    {
        var model = CausalLm.Load(Fixtures.Path(folder));
        model.KeepActivationsForBackward = false;
        var encoder = new ExampleEncoder(HfTokenizer.Load(Fixtures.Path(folder)), model.Config.MaxPositions);
        var examples = BuiltinDataset.Load(DataSplit.Test).Records;
        return TaskEvaluator.EvaluateDetailed(model, encoder, examples,
            new EvaluationOptions { MaxLossExamples = 12, MaxGenerationExamples = 2, MaxNewTokens = 8 });
    }

    [Fact]
    public void Compare_SameModelTwice_GivesExactlyZeroDeltas()
    {
        // Arrange
        var first = EvaluateFixture("tiny-llama");
        var second = EvaluateFixture("tiny-llama");

        // Act
        var delta = TaskEvaluator.Compare(first, second);

        // Assert
        foreach (var d in new[] { delta.Loss, delta.RougeL!, delta.Accuracy! })
        {
            Assert.Equal(0.0, d.Mean);
            Assert.Equal(0.0, d.StandardError);
            Assert.Equal(0.0, d.T);
        }
        Assert.Equal(12, delta.Loss.Count);
        Assert.Equal(2, delta.RougeL!.Count);
        Assert.Equal(2, delta.Accuracy!.Count);
    }

    [Fact]
    public void Compare_Bf16AgainstFloat32Fixture_LossDeltaIsTheDifferenceOfAggregateLosses()
    {
        // Arrange: the bf16 copy of tiny-llama has the same tokenizer and slightly different (rounded) weights.
        var rounded = EvaluateFixture("tiny-llama/bf16");
        var full = EvaluateFixture("tiny-llama");

        // Act
        var delta = TaskEvaluator.Compare(rounded, full);

        // Assert: the aggregate losses are token-weighted, so the paired Δ must equal their difference.
        Assert.NotEqual(0.0, delta.Loss.Mean);
        Assert.Equal(rounded.Result.Loss - full.Result.Loss, delta.Loss.Mean, 12);
        Assert.True(delta.Loss.StandardError > 0);
        Assert.Equal(rounded.Result.RougeL!.Value - full.Result.RougeL!.Value, delta.RougeL!.Mean, 12);
    }

    [Fact]
    public void Evaluate_IsTheAggregateOfEvaluateDetailed()
    {
        // Arrange
        var model = CausalLm.Load(Fixtures.Path("tiny-llama"));
        model.KeepActivationsForBackward = false;
        var encoder = new ExampleEncoder(HfTokenizer.Load(Fixtures.Path("tiny-llama")), model.Config.MaxPositions);
        var examples = BuiltinDataset.Load(DataSplit.Test).Records;
        var options = new EvaluationOptions { MaxLossExamples = 12, MaxGenerationExamples = 2, MaxNewTokens = 8 };

        // Act
        var detailed = TaskEvaluator.EvaluateDetailed(model, encoder, examples, options);
        var result = TaskEvaluator.Evaluate(model, encoder, examples, options);

        // Assert: Σ n_i l_i / Σ n_i over the per-example losses.
        double weighted = detailed.Losses.Select((l, i) => l * detailed.TokenCounts[i]).Sum() / detailed.TokenCounts.Sum();
        Assert.Equal(weighted, result.Loss, 12);
        Assert.Equal((result.Loss, result.RougeL, result.Accuracy), (detailed.Result.Loss, detailed.Result.RougeL, detailed.Result.Accuracy));
    }
}
