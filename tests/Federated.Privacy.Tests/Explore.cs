using Federated.Core.Lora;
using Federated.Privacy.Gradients;
using Federated.Privacy.Inversion;
using Federated.Privacy.Metrics;
using Federated.Privacy.TokenSet;
using Xunit.Abstractions;

namespace Federated.Privacy.Tests;

public sealed class Explore(ITestOutputHelper output)
{
    [Theory]
    [InlineData(4, false)]
    [InlineData(4, true)]
    [InlineData(16, false)]
    [InlineData(16, true)]
    public void TokenSet_Explore(int rank, bool context)
    {
        var model = TinyModel.LoadModel();
        var tok = TinyModel.LoadTokenizer();
        var examples = TinyModel.Encode(tok);
        var adapter = LoraAdapter.Create(model, new LoraConfig { Rank = rank, Alpha = 8, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] }, 7);
        var layout = LoraUpdateLayout.Create(adapter, freezeA: true);
        var oracle = GradientOracle.ForLora(model, adapter, layout);
        var ctx = context ? examples[0].Ids.Take(examples[0].PromptLength).ToArray() : [];
        foreach (int b in new[] { 1, 2, 4 })
        {
            var batch = examples.Skip(3).Take(b).ToArray();
            var g = oracle.Gradient(batch);
            var delta = g.Select(x => -0.01f * x).ToArray();
            var truth = batch.SelectMany(e => e.Ids).Distinct().ToArray();
            var r = TokenSetProbe.FromUpdate(oracle, delta, new TokenSetOptions { SetSize = truth.Length, FootprintContext = ctx });
            var s = TokenSetScore.Compute(r.Recovered, truth, model.Config.VocabSize);
            var respTruth = batch.SelectMany(e => e.Ids.Skip(e.PromptLength)).Distinct().ToArray();
            var sResp = TokenSetScore.Compute(r.Ranking.Take(respTruth.Length), respTruth, model.Config.VocabSize);
            var sResp2 = TokenSetScore.Compute(r.Ranking.Take(2 * respTruth.Length), respTruth, model.Config.VocabSize);
            output.WriteLine($"r={rank} ctx={context} B={b} |T|={truth.Length} R={s.Recall:F3} chance={s.ChanceRecall:F3} | resp |T|={respTruth.Length} R@|T|={sResp.Recall:F3} R@2|T|={sResp2.Recall:F3} chance={sResp.ChanceRecall:F3}");
        }
    }

    [Fact]
    public void Inversion_Explore()
    {
        var model = TinyModel.LoadModel();
        var tok = TinyModel.LoadTokenizer();
        var adapter = LoraAdapter.Create(model, new LoraConfig { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] }, 7);
        var layout = LoraUpdateLayout.Create(adapter, freezeA: true);
        var oracle = GradientOracle.ForLora(model, adapter, layout);
        var x = TinyModel.EncodeText(tok, "the dog ran to the tree");
        output.WriteLine($"ids {string.Join(",", x.Ids)} len {x.Ids.Length}");
        var g = oracle.Gradient([x]);
        var delta = g.Select(v => -0.01f * v).ToArray();
        var truth = x.Ids.Distinct().ToArray();
        var ts = TokenSetProbe.FromUpdate(oracle, delta, new TokenSetOptions { SetSize = 2 * truth.Length });
        var sc = TokenSetScore.Compute(ts.Recovered, truth, 708);
        output.WriteLine($"prior R={sc.Recall:F3} P={sc.Precision:F3}");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var res = GradientInversion.Reconstruct(oracle, delta, [new InversionSequence(x.Ids.Length, 0)], ts.Recovered, new InversionOptions { Seed = 3 });
        var score = ReconstructionScore.Compute([x.Ids], res.Sequences, ids => tok.Decode(ids));
        output.WriteLine($"D {res.InitialMatchingLoss:F4} -> {res.MatchingLoss:F4} evals {res.Evaluations} {sw.ElapsedMilliseconds}ms acc {score.TokenAccuracy:F3} rouge {score.RougeL:F3}");
        output.WriteLine($"'{score.TrueTexts[0]}' vs '{score.ReconstructedTexts[0]}'");
        var res2 = GradientInversion.Reconstruct(oracle, delta, [new InversionSequence(x.Ids.Length, 0)], truth, new InversionOptions { Seed = 3 });
        var score2 = ReconstructionScore.Compute([x.Ids], res2.Sequences, ids => tok.Decode(ids));
        output.WriteLine($"true prior: D {res2.MatchingLoss:F4} acc {score2.TokenAccuracy:F3} rouge {score2.RougeL:F3} '{score2.ReconstructedTexts[0]}'");
    }
}
