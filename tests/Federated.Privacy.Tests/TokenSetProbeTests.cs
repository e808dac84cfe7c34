using Federated.Privacy.Gradients;
using Federated.Privacy.Metrics;
using Federated.Privacy.TokenSet;

namespace Federated.Privacy.Tests;

public sealed class TokenSetProbeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FromUpdate_FfaLoraOneSgdStep_RecallWellAboveChance(int batchSize)
    {
        // Arrange: the client takes one SGD step of FFA-LoRA (rank 16, every projection) on its batch; the server has Δ.
        var tokenizer = TinyModel.LoadTokenizer();
        var batch = TinyModel.Encode(tokenizer).Skip(3).Take(batchSize).ToArray();
        using var model = TinyModel.LoadModel();
        var oracle = TinyLora.Oracle(model);
        var delta = TinyLora.OneStepUpdate(oracle, batch);
        var truth = batch.SelectMany(e => e.Ids).Distinct().ToArray();
        var responseTruth = batch.SelectMany(e => e.Ids[e.PromptLength..]).Distinct().ToArray();
        int vocab = model.Config.VocabSize;

        // Act: the attack sees only Δ, the round-start model and the set size.
        var result = TokenSetProbe.FromUpdate(oracle, delta, new TokenSetOptions { SetSize = truth.Length });
        var all = TokenSetScore.Compute(result.Recovered, truth, vocab);
        var response = TokenSetScore.Compute(result.Ranking.Take(responseTruth.Length), responseTruth, vocab);

        // Assert: measured recall of all tokens 0.28 (B=1) / 0.34 (B=2) vs chance 0.09 / 0.11, and of the response
        // tokens at k = |response set| 0.69 / 0.63 vs chance 0.02 / 0.03.
        Assert.True(all.Recall >= 2 * all.ChanceRecall, $"recall {all.Recall:F3} vs chance {all.ChanceRecall:F3}");
        Assert.True(response.Recall >= 3 * response.ChanceRecall, $"response recall {response.Recall:F3} vs chance {response.ChanceRecall:F3}");
    }

    [Fact]
    public void FromUpdate_CosineScoring_BeatsChanceOnResponseTokens()
    {
        // Arrange
        var tokenizer = TinyModel.LoadTokenizer();
        var batch = TinyModel.Encode(tokenizer).Skip(3).Take(1).ToArray();
        using var model = TinyModel.LoadModel();
        var oracle = TinyLora.Oracle(model);
        var delta = TinyLora.OneStepUpdate(oracle, batch);
        var responseTruth = batch[0].Ids[batch[0].PromptLength..].Distinct().ToArray();

        // Act
        var result = TokenSetProbe.FromUpdate(oracle, delta, new TokenSetOptions { SetSize = responseTruth.Length, Scoring = TokenSetScoring.Cosine });
        var score = TokenSetScore.Compute(result.Ranking.Take(2 * responseTruth.Length), responseTruth, model.Config.VocabSize);

        // Assert
        Assert.Equal("footprint-cosine", result.Method);
        Assert.True(score.Recall >= 2 * score.ChanceRecall, $"recall {score.Recall:F3} vs chance {score.ChanceRecall:F3}");
    }

    [Fact]
    public void FromEmbeddingUpdate_FullFirstOrderUpdate_RecoversInputTokensExactly()
    {
        // Arrange: a full first-order step that includes the (untied) input embedding. Every token at positions
        // 0 … T−2 feeds a scored prediction, so exactly those rows are non-zero (the last token is never an input to a loss).
        var tokenizer = TinyModel.LoadTokenizer();
        var example = TinyModel.EncodeText(tokenizer, "the dog ran to the tree and the cat sat");
        using var model = TinyModel.LoadModel();
        var oracle = GradientOracle.ForBaseParameters(model, "embed_tokens");
        var delta = TinyLora.OneStepUpdate(oracle, [example]);
        var truth = example.Ids[..^1].Distinct().ToArray();

        // Act
        var result = TokenSetProbe.FromEmbeddingUpdate(delta, model.Config.VocabSize, model.Config.Dim);
        var score = TokenSetScore.Compute(result.Recovered, truth);

        // Assert
        Assert.Equal(1.0, score.Precision);
        Assert.Equal(1.0, score.Recall);
    }

    [Fact]
    public void FromUpdate_WrongUpdateLength_Throws()
    {
        using var model = TinyModel.LoadModel();
        var oracle = TinyLora.Oracle(model);
        Assert.Throws<ArgumentException>(() => TokenSetProbe.FromUpdate(oracle, new float[3]));
    }

    [Fact]
    public void EstimateSize_ClearGap_CutsThere()
    {
        Assert.Equal(3, TokenSetProbe.EstimateSize([0.9, 0.85, 0.8, 0.2, 0.15], 4));
    }
}
