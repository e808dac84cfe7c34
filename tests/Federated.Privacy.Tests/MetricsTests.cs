using Federated.Privacy.Metrics;

namespace Federated.Privacy.Tests;

public sealed class MetricsTests
{
    // Hand-worked: positives {0.9, 0.8, 0.5}, negatives {0.7, 0.5, 0.1, 0.2}. Pairs won: 0.9 → 4, 0.8 → 4,
    // 0.5 → 2 wins + 1 tie (½) = 2.5; AUC = 10.5 / 12 = 0.875. Thresholds (descending): 0.9 → (FPR 0, TPR 1/3),
    // 0.8 → (0, 2/3), 0.7 → (1/4, 2/3), 0.5 → (2/4, 1), then lower → FPR ≥ 3/4.
    private static readonly double[] Positives = [0.9, 0.8, 0.5];
    private static readonly double[] Negatives = [0.7, 0.5, 0.1, 0.2];

    [Fact]
    public void Auc_HandWorkedWithTie_IsMannWhitney()
    {
        // Act
        double auc = RocCurve.Auc(Positives, Negatives);

        // Assert
        Assert.Equal(0.875, auc, 12);
    }

    [Theory]
    [InlineData(0.0, 2.0 / 3)]
    [InlineData(0.01, 2.0 / 3)]
    [InlineData(0.25, 2.0 / 3)]
    [InlineData(0.5, 1.0)]
    public void TprAtFpr_HandWorked_IsBestTprWithinBudget(double fpr, double expected)
    {
        // Act
        double tpr = RocCurve.TprAtFpr(Positives, Negatives, fpr);

        // Assert
        Assert.Equal(expected, tpr, 12);
    }

    [Fact]
    public void Auc_AllScoresEqual_IsOneHalf()
    {
        // Arrange: every pair is a tie.
        double[] same = [1, 1, 1];

        // Act / Assert
        Assert.Equal(0.5, RocCurve.Auc(same, same), 12);
        Assert.Equal(0.0, RocCurve.TprAtFpr(same, same, 0.01), 12);
    }

    [Fact]
    public void Auc_EmptySample_Throws()
    {
        Assert.Throws<ArgumentException>(() => RocCurve.Auc([1.0], []));
    }

    [Fact]
    public void TokenSetScore_HandWorked_PrecisionRecallF1()
    {
        // Arrange: recovered {1,2,3,4} (4 ∩ truth = {2,4}), truth {2,4,6}: P = 2/4, R = 2/3, F1 = 2·(1/2)(2/3)/(7/6) = 4/7.
        int[] recovered = [1, 2, 3, 4, 4];
        int[] truth = [2, 4, 6];

        // Act
        var score = TokenSetScore.Compute(recovered, truth, vocabSize: 100);

        // Assert
        Assert.Equal(0.5, score.Precision, 12);
        Assert.Equal(2.0 / 3, score.Recall, 12);
        Assert.Equal(4.0 / 7, score.F1, 12);
        Assert.Equal(2, score.Correct);
        Assert.Equal(0.04, score.ChanceRecall, 12);
    }

    [Fact]
    public void TokenSetScore_NothingRecovered_AllZero()
    {
        var score = TokenSetScore.Compute([], [1, 2]);
        Assert.Equal(0, score.Precision);
        Assert.Equal(0, score.Recall);
        Assert.Equal(0, score.F1);
    }

    [Fact]
    public void ReconstructionScore_HandWorked_TokenAccuracyAndRouge()
    {
        // Arrange: ids decode to words; truth "a b c d", reconstruction "a c b d": LCS = 3 → Rouge-L F = 3/4;
        // same ids at positions 0 and 3 → token accuracy 2/4.
        string[] words = ["a", "b", "c", "d"];
        int[][] truth = [[0, 1, 2, 3]];
        int[][] rec = [[0, 2, 1, 3]];

        // Act
        var score = ReconstructionScore.Compute(truth, rec, ids => string.Join(' ', ids.Select(i => words[i])));

        // Assert
        Assert.Equal(0.5, score.TokenAccuracy, 12);
        Assert.Equal(0.75, score.RougeL, 12);
    }
}
