using System.CommandLine;
using Federated.Cli.Plotting;
using Federated.Data;
using Federated.Data.Partitioning;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated partition`: splits a dataset over N clients with a partition scheme and shows what each client gets
/// (sizes, category mix), plus a clients × categories heat map (PNG and SVG).
/// </summary>
internal static class PartitionCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            Description = "builtin (the WordNet train split), builtin:SPLIT, or a JSONL(.gz) file (Dolly or prompt/response).",
            DefaultValueFactory = _ => BuiltinDataset.Name,
        };
        var clients = new Option<int>("--clients") { Description = "Number of clients.", DefaultValueFactory = _ => 10 };
        var scheme = new Option<string>("--scheme")
        {
            Description = "iid | dirichlet:α[,min=N] | categories:k | quantity:σ, optionally +holdout:CAT,CAT (see docs/data.md).",
            DefaultValueFactory = _ => "dirichlet:0.5",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out") { Description = "Folder for partition.png and partition.svg.", DefaultValueFactory = _ => "runs/partition" };
        var skipBad = new Option<bool>("--skip-bad-lines") { Description = "Skip malformed JSONL lines (and count them) instead of failing." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var writeShards = new Option<DirectoryInfo?>("--write-shards")
        {
            Description = "Also write each client's records to DIR/client-00000.jsonl, … (partition order; the exact shards " +
                "`federated simulate` trains on with the same --data/--clients/--partition/--seed; give one to each `federated join --data`).",
        };
        var command = new Command("partition",
            "Partition a dataset over clients and show each client's size and category mix.\n\n" +
            "Examples:\n  federated partition --clients 20 --scheme dirichlet:0.1 --seed 1\n" +
            "  federated partition --data builtin --clients 8 --scheme categories:2+holdout:noun.animal --json\n" +
            "  federated partition --data builtin --clients 2 --scheme iid --seed 42 --write-shards shards")
        {
            data, clients, scheme, seed, output, skipBad, json, writeShards,
        };
        command.SetAction(parse =>
        {
            var dataName = parse.GetValue(data)!;
            var parsed = PartitionScheme.Parse(parse.GetValue(scheme)!);
            int clientCount = parse.GetValue(clients), seedValue = parse.GetValue(seed);
            if (clientCount < 1) throw new ArgumentException($"--clients must be at least 1, got {clientCount}.");
            var loaded = BuiltinDataset.LoadByName(dataName, options: new DataLoadOptions { SkipBadLines = parse.GetValue(skipBad) });
            var categories = loaded.Categories();
            var result = parsed.Apply(categories, clientCount, seedValue);

            var columns = categories.Distinct().Order(StringComparer.Ordinal).ToArray();
            var columnIndex = columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            var counts = new int[clientCount, columns.Length];
            for (int c = 0; c < clientCount; c++)
                foreach (var record in result.Clients[c]) counts[c, columnIndex[categories[record]]]++;
            var shares = new double[clientCount, columns.Length];
            for (int c = 0; c < clientCount; c++)
                for (int k = 0; k < columns.Length; k++)
                    shares[c, k] = result.Clients[c].Length == 0 ? 0 : (double)counts[c, k] / result.Clients[c].Length;

            var outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            var sizes = result.Clients.Select(c => c.Length).ToArray();
            var (png, svg) = PartitionHeatmap.Write(shares, columns, sizes,
                $"{parsed} · {clientCount} clients · seed {seedValue} · {dataName}", Path.Combine(outDir, "partition"));

            var shardFiles = parse.GetValue(writeShards) is { } shardDir ? WriteShards(loaded.Records, result.Clients, shardDir.FullName) : [];

            var clientRows = Enumerable.Range(0, clientCount).Select(c => new ClientRow(c, sizes[c],
                Enumerable.Range(0, columns.Length).Where(k => counts[c, k] > 0)
                    .ToDictionary(k => columns[k], k => counts[c, k]))).ToArray();
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    Data = dataName, Records = categories.Length, SkippedLines = loaded.SkippedLines, Scheme = parsed.ToString(),
                    Seed = seedValue, Clients = clientRows, HeldOut = result.HeldOut.Length, Unassigned = result.Unassigned.Length,
                    Png = png, Svg = svg, Shards = shardFiles,
                });
                return CliRunner.Ok;
            }
            var table = new Table().AddColumn("client").AddColumn(new TableColumn("records").RightAligned())
                .AddColumn(new TableColumn("categories").RightAligned()).AddColumn("largest categories (share)");
            foreach (var row in clientRows)
            {
                var top = row.Categories.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(3)
                    .Select(kv => $"{kv.Key} {100.0 * kv.Value / Math.Max(1, row.Size):F0}%");
                table.AddRow(row.Id.ToString(), row.Size.ToString(), row.Categories.Count.ToString(), Markup.Escape(string.Join(", ", top)));
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(Markup.Escape(
                $"{dataName}: {categories.Length} records, {columns.Length} categories; scheme {parsed}, seed {seedValue}; " +
                $"held out {result.HeldOut.Length}, unassigned {result.Unassigned.Length}" +
                (loaded.SkippedLines > 0 ? $", skipped lines {loaded.SkippedLines}" : "") + "."));
            AnsiConsole.MarkupLine(Markup.Escape($"heat map: {png}, {svg}"));
            if (shardFiles.Length > 0) AnsiConsole.MarkupLine(Markup.Escape($"shards: {shardFiles[0]} … {shardFiles[^1]}"));
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>Writes client c's records, in partition order, to DIR/client-{c:D5}.jsonl (the simulator's default client names).</summary>
    private static string[] WriteShards(IReadOnlyList<InstructionExample> records, IReadOnlyList<int[]> clients, string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new string[clients.Count];
        for (int c = 0; c < clients.Count; c++)
        {
            if (clients[c].Length == 0)
                throw new ArgumentException($"The partition left client {c} with no records; use fewer --clients or another --scheme.");
            files[c] = Path.Combine(directory, $"client-{c:D5}.jsonl");
            InstructionDatasetWriter.Write(files[c], clients[c].Select(i => records[i]));
        }
        return files;
    }

    private sealed record ClientRow(int Id, int Size, Dictionary<string, int> Categories);
}
