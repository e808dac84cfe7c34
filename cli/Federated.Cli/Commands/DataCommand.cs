using System.CommandLine;
using Federated.Data;
using Federated.Data.WordNet;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated data build-wordnet`: rebuilds the built-in task (data/wordnet) from the WordNet 3.0 database files.
/// A maintainer's verb: the committed files are what users get; this is the script that made them.
/// </summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Dataset maintenance (the built-in task is already committed and embedded).");
        command.Subcommands.Add(CreateBuildWordNet());
        return command;
    }

    private static Command CreateBuildWordNet()
    {
        var wordnet = new Option<string>("--wordnet")
        {
            Description = "Folder with WordNet 3.0's index.* and data.* files (apt-get install wordnet-base).",
            DefaultValueFactory = _ => "/usr/share/wordnet",
        };
        var output = new Option<string>("--out") { Description = "Data folder; files go to OUT/wordnet/.", DefaultValueFactory = _ => "data" };
        var seed = new Option<int>("--seed") { Description = "Seed of the word → split hash.", DefaultValueFactory = _ => WordSplit.DefaultSeed };
        var minTagged = new Option<int>("--min-tagged-senses")
        {
            Description = "Keep (word, POS) entries whose tagsense_cnt is at least this (0 = every entry).",
            DefaultValueFactory = _ => 1,
        };
        var license = new Option<string?>("--license") { Description = "License file to copy (default: /usr/share/doc/wordnet-base/copyright)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("build-wordnet",
            "Build data/wordnet/{pretrain,train,validation,test}.jsonl.gz, LICENSE-WordNet and README.md from WordNet.\n\n" +
            "Example:\n  apt-get install -y wordnet-base && federated data build-wordnet --wordnet /usr/share/wordnet --out data")
        {
            wordnet, output, seed, minTagged, license, json,
        };
        command.SetAction(parse =>
        {
            var wordnetDir = parse.GetValue(wordnet)!;
            var outDir = Path.Combine(parse.GetValue(output)!, "wordnet");
            var options = new WordNetImportOptions
            {
                MinTaggedSenses = parse.GetValue(minTagged),
                Split = new WordSplit(parse.GetValue(seed)),
            };
            var dataset = WordNetImporter.Import(wordnetDir, options);
            var commandLine = $"federated data build-wordnet --wordnet {wordnetDir} --out {parse.GetValue(output)}" +
                              (options.Split.Seed != WordSplit.DefaultSeed ? $" --seed {options.Split.Seed}" : "") +
                              (options.MinTaggedSenses != 1 ? $" --min-tagged-senses {options.MinTaggedSenses}" : "");
            var files = WordNetDatasetWriter.Write(dataset, outDir, parse.GetValue(license), options, commandLine);
            var counts = dataset.Splits.OrderBy(kv => kv.Key).ToDictionary(kv => WordSplit.FileStem(kv.Key), kv => kv.Value.Count);
            if (parse.GetValue(json))
                JsonOutput.Write(new { Output = outDir, Entries = dataset.EntriesUsed, Skipped = dataset.EntriesSkipped, Records = counts, Files = files });
            else
            {
                Console.WriteLine($"{dataset.EntriesUsed} entries ({dataset.EntriesSkipped} skipped) → {outDir}");
                foreach (var (split, count) in counts) Console.WriteLine($"  {split,-10} {count,7} records");
            }
            return CliRunner.Ok;
        });
        return command;
    }
}
