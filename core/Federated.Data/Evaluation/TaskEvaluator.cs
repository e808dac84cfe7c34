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
        EvaluationOptions options, Action<int, int>? progress = null)
    {
        if (examples.Count == 0) throw new ArgumentException("The evaluation set is empty.", nameof(examples));
        int lossCount = options.MaxLossExamples > 0 ? Math.Min(options.MaxLossExamples, examples.Count) : examples.Count;
        var generation = new List<InstructionExample>();
        int perKind = options.MaxGenerationExamples;
        generation.AddRange(examples.Where(e => e.Task != ClassificationTask).Take(perKind));
        generation.AddRange(examples.Where(e => e.Task == ClassificationTask).Take(perKind));
        int total = lossCount + generation.Count, done = 0;

        double lossSum = 0;
        long tokens = 0;
        for (int i = 0; i < lossCount; i++)
        {
            var tokenized = encoder.Encode(examples[i]);
            int targets = tokenized.TargetCount;
            if (targets == 0) continue;
            lossSum += (double)model.ForwardLoss(tokenized.Ids, 1, tokenized.Ids.Length, tokenized.LossMask) * targets;
            tokens += targets;
            progress?.Invoke(++done, total);
        }

        var rougeRefs = new List<string>();
        var rougeHyps = new List<string>();
        var classRefs = new List<string>();
        var classHyps = new List<string>();
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
            bool classification = example.Task == ClassificationTask;
            (classification ? classRefs : rougeRefs).Add(example.Response);
            (classification ? classHyps : rougeHyps).Add(text);
            if (samples.Count < options.SampleCount)
                samples.Add(new EvaluationSample(example.RawPrompt ?? PromptTemplate.Format(example), example.Response, text, example.Task ?? ""));
            progress?.Invoke(++done, total);
        }

        return new EvaluationResult(
            tokens > 0 ? lossSum / tokens : double.NaN,
            rougeRefs.Count > 0 ? RougeL.MeanFMeasure(rougeRefs, rougeHyps) : null,
            classRefs.Count > 0 ? ExactMatch.Accuracy(classRefs, classHyps) : null,
            lossCount, samples);
    }
}
