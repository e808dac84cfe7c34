using Federated.Data.Metrics;

namespace Federated.Data.Tests;

// Expected values are worked by hand from rouge-score's rule (lowercase, [^a-z0-9]+ → ' ', split; LCS; P = L/|hyp|,
// R = L/|ref|, F = 2PR/(P+R)); the LCS of each case is written next to it.
public sealed class RougeLTests
{
    [Fact]
    public void Score_DroppedWord_HandWorked()
    {
        // ref: the cat sat on the mat (6)   hyp: the cat on the mat (5)
        // LCS = "the cat on the mat" = 5 → P = 5/5, R = 5/6, F = 2·(5/6)/(11/6) = 10/11
        var score = RougeL.Score("the cat sat on the mat", "the cat on the mat");
        Assert.Equal(1.0, score.Precision, 12);
        Assert.Equal(5.0 / 6, score.Recall, 12);
        Assert.Equal(10.0 / 11, score.FMeasure, 12);
    }

    [Fact]
    public void Score_UnequalLengths_HandWorked()
    {
        // ref: a b c d e (5)   hyp: a x c y e z (6)   LCS = a c e = 3 → P = 3/6, R = 3/5, F = 2·0.3/1.1 = 6/11
        var score = RougeL.Score("a b c d e", "a x c y e z");
        Assert.Equal(0.5, score.Precision, 12);
        Assert.Equal(0.6, score.Recall, 12);
        Assert.Equal(6.0 / 11, score.FMeasure, 12);
    }

    [Fact]
    public void FMeasure_Reordered_CountsSubsequenceNotBagOfWords()
    {
        // ref: police killed the gunman   hyp: the gunman killed police
        // LCS = "the gunman" = 2 (killed/police appear in the opposite order) → P = R = 2/4 → F = 0.5
        Assert.Equal(0.5, RougeL.FMeasure("police killed the gunman", "the gunman killed police"), 12);
        // a b c d vs d c b a: LCS = 1 → F = 1/4
        Assert.Equal(0.25, RougeL.FMeasure("a b c d", "d c b a"), 12);
    }

    [Fact]
    public void FMeasure_PunctuationAndCase_AreSeparators()
    {
        // "Don't stop!" → don, t, stop ; "DON T stop" → don, t, stop ; LCS = 3 → F = 1
        Assert.Equal(1.0, RougeL.FMeasure("Don't stop!", "DON T stop"), 12);
        // "e-mail" → e, mail vs "email" → email: LCS = 0 → F = 0
        Assert.Equal(0.0, RougeL.FMeasure("e-mail", "email"), 12);
    }

    [Fact]
    public void FMeasure_NonAsciiLetter_IsASeparator()
    {
        // "café au lait" → caf, au, lait ; "cafe au lait" → cafe, au, lait ; LCS = au lait = 2 → P = R = 2/3
        Assert.Equal(2.0 / 3, RougeL.FMeasure("café au lait", "cafe au lait"), 12);
    }

    [Theory]
    [InlineData("", "anything")]
    [InlineData("anything", "")]
    [InlineData("", "")]
    [InlineData("?!", "...")]
    [InlineData("abc", "xyz")]
    public void Score_EmptyTokensOrNoOverlap_IsZero(string reference, string hypothesis)
    {
        Assert.Equal(default, RougeL.Score(reference, hypothesis));
    }

    [Fact]
    public void Tokenize_Digits_AreKept()
    {
        Assert.Equal(["born", "1879", "1955"], RougeL.Tokenize("Born (1879-1955)."));
    }

    [Fact]
    public void MeanFMeasure_AveragesPerExample()
    {
        // (1 + 0) / 2
        Assert.Equal(0.5, RougeL.MeanFMeasure(["a b", "c"], ["a b", "d"]), 12);
        Assert.Throws<ArgumentException>(() => RougeL.MeanFMeasure(["a"], []));
    }
}

public sealed class ExactMatchTests
{
    [Theory]
    [InlineData("noun.animal", "noun.animal", 1)]
    [InlineData("noun.animal", "  Noun.Animal\n", 1)]
    [InlineData("noun.animal", "noun.animal.", 0)]
    [InlineData("noun.animal", "noun.animals", 0)]
    [InlineData("noun.animal", "", 0)]
    public void Score_TrimmedCaseInsensitive(string reference, string prediction, double expected)
    {
        Assert.Equal(expected, ExactMatch.Score(reference, prediction));
    }

    [Fact]
    public void Accuracy_CountsMatches()
    {
        Assert.Equal(2.0 / 3, ExactMatch.Accuracy(["a", "b", "c"], ["A", "b ", "x"]), 12);
        Assert.Equal(0, ExactMatch.Accuracy([], []));
    }
}

public sealed class TaskScoringTests
{
    [Fact]
    public void Summarize_MixedTasks_UsesMetricPerTask()
    {
        // Arrange
        InstructionExample[] records =
        [
            new("Define: dog (noun)", "", "a member of the genus Canis", "noun.animal", "definition", "dog"),
            new("Which…", "Word: dog (noun)", "noun.animal", "noun.animal", "category", "dog"),
            new("Which…", "Word: run (verb)", "verb.motion", "verb.motion", "category", "run"),
            InstructionExample.FromPrompt("p", "hello world"),
        ];
        // definition: ref 6 tokens, hyp "a member of canis" 4 tokens, LCS 4 → P = 1, R = 4/6 → F = 0.8
        // category: 1 (case/space-insensitive match) and 0 → mean 0.5; default: "hello" vs "hello world" → P=1, R=1/2 → F = 2/3
        string[] predictions = ["a member of Canis", " Noun.Animal ", "verb.change", "hello"];

        // Act
        var scores = TaskScoring.Summarize(records, predictions);

        // Assert
        Assert.Equal(["category", "default", "definition"], scores.Select(s => s.Task));
        Assert.Equal(new TaskScore("category", MetricKind.ExactMatch, 2, 0.5), scores[0]);
        Assert.Equal(MetricKind.RougeL, scores[1].Metric);
        Assert.Equal(2.0 / 3, scores[1].Mean, 12);
        Assert.Equal(0.8, scores[2].Mean, 12);
    }
}
