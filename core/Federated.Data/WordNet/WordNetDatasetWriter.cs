using System.Globalization;
using System.Text;

namespace Federated.Data.WordNet;

/// <summary>
/// Writes a <see cref="WordNetDataset"/> as <c>{pretrain,train,validation,test}.jsonl.gz</c>, <c>LICENSE-WordNet</c> and a
/// <c>README.md</c> with the counts, so the committed folder documents itself.
/// </summary>
public static class WordNetDatasetWriter
{
    /// <summary>Where Debian's wordnet-base keeps the WordNet license.</summary>
    public const string DebianCopyrightPath = "/usr/share/doc/wordnet-base/copyright";

    /// <summary>Writes every file; returns the paths written.</summary>
    /// <param name="dataset">The imported records.</param>
    /// <param name="outputDirectory">Folder to write (created if needed).</param>
    /// <param name="licensePath">License file to copy; null uses <see cref="DebianCopyrightPath"/> if it exists,
    /// else the WordNet 3.0 license text built in here.</param>
    /// <param name="options">The options the dataset was imported with (written into the README).</param>
    /// <param name="command">The command line that made it (written into the README).</param>
    public static IReadOnlyList<string> Write(WordNetDataset dataset, string outputDirectory, string? licensePath,
        WordNetImportOptions options, string command)
    {
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        foreach (var (split, records) in dataset.Splits.OrderBy(kv => kv.Key))
        {
            var path = Path.Combine(outputDirectory, WordSplit.FileStem(split) + ".jsonl.gz");
            InstructionDatasetWriter.Write(path, records);
            written.Add(path);
        }
        var licenseOut = Path.Combine(outputDirectory, "LICENSE-WordNet");
        if (licensePath is not null)
        {
            if (!File.Exists(licensePath)) throw new FileNotFoundException($"License file '{licensePath}' does not exist.", licensePath);
            File.Copy(licensePath, licenseOut, overwrite: true);
        }
        else if (File.Exists(DebianCopyrightPath)) File.Copy(DebianCopyrightPath, licenseOut, overwrite: true);
        else File.WriteAllText(licenseOut, WordNetLicense.Text);
        written.Add(licenseOut);
        var readme = Path.Combine(outputDirectory, "README.md");
        File.WriteAllText(readme, Readme(dataset, outputDirectory, options, command));
        written.Add(readme);
        return written;
    }

    private static string Readme(WordNetDataset dataset, string outputDirectory, WordNetImportOptions options, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        var splits = Enum.GetValues<DataSplit>();
        var sb = new StringBuilder();
        sb.AppendLine("# Built-in task: WordNet definitions and categories");
        sb.AppendLine();
        sb.AppendLine("Made from Princeton WordNet 3.0 (Debian package `wordnet-base`, files under /usr/share/wordnet) by");
        sb.AppendLine("`WordNetImporter` in core/Federated.Data. Do not edit by hand; rebuild with:");
        sb.AppendLine();
        sb.AppendLine("```");
        sb.AppendLine(command);
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("License: WordNet 3.0 license, see `LICENSE-WordNet` (copied from the package's copyright file).");
        sb.AppendLine();
        sb.AppendLine("## What is in it");
        sb.AppendLine();
        sb.AppendLine($"- Entries: every (lemma, part of speech) of `index.noun/verb/adj/adv` with tagsense_cnt ≥ {options.MinTaggedSenses}, " +
                      $"first (most frequent) sense only: {dataset.EntriesUsed} entries used, {dataset.EntriesSkipped} skipped (empty definition).");
        sb.AppendLine("- Two records per entry (Dolly-15K schema `instruction, context, response, category` plus `task, word`):");
        sb.AppendLine("  - `task: definition`: instruction `Define: WORD (POS)`, empty context, response = the gloss without its quoted examples.");
        sb.AppendLine($"  - `task: category`: instruction `{WordNetImporter.CategoryInstruction}`, context `Word: WORD (POS)\\nDefinition: GLOSS`, " +
                      "response = the lexicographer file (e.g. `noun.animal`), scored by exact match.");
        sb.AppendLine("- `category` = the synset's lexicographer file (45 values): the natural non-IID key for partitioning.");
        sb.AppendLine($"- Splits by word (all records of a lemma in one split; vocabularies disjoint): bucket = FNV-1a-64(UTF-8 of " +
                      $"\"{options.Split.Seed}:\" + lowercase word) mod 100 (word = the record's `word` field, spaces for underscores); buckets 0–{options.Split.PretrainPercent - 1} pretrain, " +
                      $"then {options.Split.TrainPercent} train, {options.Split.ValidationPercent} validation, rest test.");
        sb.AppendLine();
        sb.AppendLine("## Sizes");
        sb.AppendLine();
        sb.AppendLine("| split | records | words | definition | category | bytes (gz) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var s in splits)
        {
            var r = dataset.Splits[s];
            var bytes = new FileInfo(Path.Combine(outputDirectory, WordSplit.FileStem(s) + ".jsonl.gz")).Length;
            sb.AppendLine(inv, $"| {WordSplit.FileStem(s)} | {r.Count} | {r.Select(x => x.Word).Distinct(StringComparer.OrdinalIgnoreCase).Count()} | " +
                               $"{r.Count(x => x.Task == "definition")} | {r.Count(x => x.Task == "category")} | {bytes} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Records per category and split");
        sb.AppendLine();
        sb.AppendLine("| category | pretrain | train | validation | test |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        var categories = dataset.Splits.Values.SelectMany(r => r).Select(r => r.Category).Distinct().Order(StringComparer.Ordinal);
        foreach (var c in categories)
            sb.AppendLine(inv, $"| {c} | {string.Join(" | ", splits.Select(s => dataset.Splits[s].Count(r => r.Category == c)))} |");
        return sb.ToString();
    }
}
