namespace Federated.Data.Metrics;

/// <summary>Which metric scores a record.</summary>
public enum MetricKind
{
    /// <summary>Rouge-L F-measure (<see cref="RougeL"/>): free text such as definitions and Dolly responses.</summary>
    RougeL,
    /// <summary>Exact-match accuracy (<see cref="ExactMatch"/>): labels such as the WordNet category task.</summary>
    ExactMatch,
}

/// <summary>Mean score of one task: <paramref name="Count"/> records scored with <paramref name="Metric"/>.</summary>
public sealed record TaskScore(string Task, MetricKind Metric, int Count, double Mean);

/// <summary>
/// Picks the metric per record and averages per task: records whose <see cref="InstructionExample.Task"/> is
/// <c>category</c> use exact match, every other record (including Dolly and prompt/response records, task "default")
/// uses Rouge-L F, as FedKSeed does.
/// </summary>
public static class TaskScoring
{
    /// <summary>The task name used for records without one.</summary>
    public const string DefaultTask = "default";

    /// <summary>The metric of a record.</summary>
    public static MetricKind MetricFor(InstructionExample example) =>
        example.Task == "category" ? MetricKind.ExactMatch : MetricKind.RougeL;

    /// <summary>The score in [0, 1] of one prediction against the record's response.</summary>
    public static double Score(InstructionExample example, string prediction) => MetricFor(example) switch
    {
        MetricKind.ExactMatch => ExactMatch.Score(example.Response, prediction),
        _ => RougeL.FMeasure(example.Response, prediction),
    };

    /// <summary>Mean score per task (ordinal task order).</summary>
    public static IReadOnlyList<TaskScore> Summarize(IReadOnlyList<InstructionExample> records, IReadOnlyList<string> predictions)
    {
        if (records.Count != predictions.Count)
            throw new ArgumentException($"{records.Count} records but {predictions.Count} predictions.");
        return Enumerable.Range(0, records.Count)
            .GroupBy(i => records[i].Task ?? DefaultTask, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new TaskScore(g.Key, MetricFor(records[g.First()]), g.Count(), g.Average(i => Score(records[i], predictions[i]))))
            .ToArray();
    }
}
