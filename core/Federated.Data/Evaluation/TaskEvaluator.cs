using Federated.Core.Generation;
using Federated.Core.Models;
using Federated.Data.Metrics;
using Federated.Data.Training;

namespace Federated.Data.Evaluation;

/// <summary>Scores of a model on a set of instruction examples (the `federated eval` JSON object).</summary>
/// <param name="Loss">Mean next-token cross-entropy over response tokens (all examples, token-weighted).</param>
/// <param name="RougeL">Mean Rouge-L F-measure of greedy generations on the generation examples (every task but
/// classification), or null when the set has none or generation was skipped.</param>
/// <param name="Accuracy">Exact-match accuracy of greedy generations on classification examples (task "category"), or null.</param>
/// <param name="Examples">Examples scored for the loss.</param>
/// <param name="Samples">Generated texts next to references, for people (the first few generated examples).</param>
public sealed record EvaluationResult(double Loss, double? RougeL, double? Accuracy, int Examples, IReadOnlyList<EvaluationSample> Samples);

/// <summary>An evaluation with every example's score, in evaluation order (for paired comparisons).</summary>
/// <param name="Result">The aggregates, computed from the arrays below.</param>
/// <param name="Losses">Mean next-token cross-entropy over each scored example's response tokens (examples with no
/// response token are skipped).</param>
/// <param name="TokenCounts">Response tokens of each scored example (the loss weights).</param>
/// <param name="RougeL">Rouge-L F of each generation example but classification.</param>
/// <param name="Accuracy">Exact match (0 or 1) of each classification generation.</param>
public sealed record DetailedEvaluation(EvaluationResult Result, IReadOnlyList<double> Losses, IReadOnlyList<int> TokenCounts,
    IReadOnlyList<double> RougeL, IReadOnlyList<double> Accuracy);

/// <summary>Paired differences model − base of <see cref="TaskEvaluator.Compare"/>; null where no example was scored.</summary>
public sealed record EvaluationComparison(PairedDifference Loss, PairedDifference? RougeL, PairedDifference? Accuracy);

/// <summary>One generation beside its reference.</summary>
public sealed record EvaluationSample(string Prompt, string Reference, string Generated, string Task);

/// <summary>What to evaluate and how much of it.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Most examples scored for the loss (the first ones of the set; 0 = all).</summary>
    public int MaxLossExamples { get; init; }

    /// <summary>Most examples generated for Rouge-L / accuracy (the first ones of each kind; 0 = none).</summary>
    public int MaxGenerationExamples { get; init; } = 64;

    /// <summary>Greedy generation length (the rule: 64 new tokens).</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>How many generations to return in <see cref="EvaluationResult.Samples"/>.</summary>
    public int SampleCount { get; init; }
}

/// <summary>
/// The task metrics of docs/data.md: response-only loss, Rouge-L (rouge-score's rule) of greedy generations for
/// open generation, exact-match accuracy for the classification task. Used by `federated eval` and the simulator,
/// so their numbers are the same numbers. Deterministic (greedy, no sampling).
/// </summary>
public static class TaskEvaluator
{
    /// <summary>The task name whose responses are scored by exact match instead of Rouge-L.</summary>
    public const string ClassificationTask = "category";

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="examples"/>.</summary>
    public static EvaluationResult Evaluate(CausalLm model, ExampleEncoder encoder, IReadOnlyList<InstructionExample> examples,
        EvaluationOptions options, Action<int, int>? progress = null) =>
        EvaluateDetailed(model, encoder, examples, options, progress).Result;

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="examples"/> and keeps every example's score, so two
    /// models evaluated with the same examples and options can be compared example by example
    /// (<see cref="Compare"/>). The aggregates of <see cref="DetailedEvaluation.Result"/> are computed from them.</summary>
    public static DetailedEvaluation EvaluateDetailed(CausalLm model, ExampleEncoder encoder, IReadOnlyList<InstructionExample> examples,
        EvaluationOptions options, Action<int, int>? progress = null)
    {
        if (examples.Count == 0) throw new ArgumentException("The evaluation set is empty.", nameof(examples));
        int lossCount = options.MaxLossExamples > 0 ? Math.Min(options.MaxLossExamples, examples.Count) : examples.Count;
        var generation = new List<InstructionExample>();
        int perKind = options.MaxGenerationExamples;
        generation.AddRange(examples.Where(e => e.Task != ClassificationTask).Take(perKind));
        generation.AddRange(examples.Where(e => e.Task == ClassificationTask).Take(perKind));
        int total = lossCount + generation.Count, done = 0;

        // Per-example mean loss l_i over n_i response tokens; the aggregate is Σ n_i l_i / Σ n_i.
        var losses = new List<double>(lossCount);
        var tokenCounts = new List<int>(lossCount);
        double lossSum = 0;
        long tokens = 0;
        for (int i = 0; i < lossCount; i++)
        {
            var tokenized = encoder.Encode(examples[i]);
            int targets = tokenized.TargetCount;
            if (targets == 0) continue;
            double loss = model.ForwardLoss(tokenized.Ids, 1, tokenized.Ids.Length, tokenized.LossMask);
            losses.Add(loss);
            tokenCounts.Add(targets);
            lossSum += loss * targets;
            tokens += targets;
            progress?.Invoke(++done, total);
        }

        var rougeScores = new List<double>();
        var accuracyScores = new List<double>();
        var samples = new List<EvaluationSample>();
        var stop = encoder.Tokenizer.EosIds.ToArray();
        var generationOptions = new GenerationOptions { MaxNewTokens = options.MaxNewTokens, StopTokenIds = stop };
        KvCache? cache = null;
        foreach (var example in generation)
        {
            var prompt = encoder.EncodePrompt(example);
            var ids = Generator.Generate(model, prompt, generationOptions, ref cache);
            var generated = ids.AsSpan(prompt.Length);
            if (generated.Length > 0 && stop.Contains(generated[^1])) generated = generated[..^1];
            string text = encoder.Tokenizer.Decode(generated, skipSpecialTokens: true).Trim();
            if (example.Task == ClassificationTask) accuracyScores.Add(ExactMatch.Score(example.Response, text));
            else rougeScores.Add(RougeL.FMeasure(example.Response, text));
            if (samples.Count < options.SampleCount)
                samples.Add(new EvaluationSample(example.RawPrompt ?? PromptTemplate.Format(example), example.Response, text, example.Task ?? ""));
            progress?.Invoke(++done, total);
        }

        var result = new EvaluationResult(
            tokens > 0 ? lossSum / tokens : double.NaN,
            // Enumerable.Average sums doubles in order, as RougeL.MeanFMeasure does, so the aggregates do not move.
            rougeScores.Count > 0 ? rougeScores.Average() : null,
            accuracyScores.Count > 0 ? accuracyScores.Average() : null,
            lossCount, samples);
        return new DetailedEvaluation(result, losses, tokenCounts, rougeScores, accuracyScores);
    }

    /// <summary>Paired differences <paramref name="model"/> − <paramref name="baseline"/>, example by example
    /// (<see cref="PairedComparison"/>): token-weighted loss, Rouge-L per generation, accuracy per category generation.
    /// Both must come from <see cref="EvaluateDetailed"/> with the same examples and options.</summary>
    public static EvaluationComparison Compare(DetailedEvaluation model, DetailedEvaluation baseline)
    {
        if (!model.TokenCounts.SequenceEqual(baseline.TokenCounts))
            throw new InvalidDataException("The two models tokenize the evaluation responses differently (different token counts per " +
                "example); a paired loss comparison needs the same tokenizer.");
        if (model.RougeL.Count != baseline.RougeL.Count || model.Accuracy.Count != baseline.Accuracy.Count)
            throw new ArgumentException("The two evaluations did not generate the same examples; evaluate both with the same examples and options.");
        return new EvaluationComparison(
            PairedComparison.OfWeighted(model.Losses, baseline.Losses, model.TokenCounts),
            model.RougeL.Count > 0 ? PairedComparison.Of(model.RougeL, baseline.RougeL) : null,
            model.Accuracy.Count > 0 ? PairedComparison.Of(model.Accuracy, baseline.Accuracy) : null);
    }
}
