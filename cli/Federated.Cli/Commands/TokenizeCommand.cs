using System.CommandLine;
using Federated.Core.Tokenization;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>`federated tokenize`: encodes a text with a Hugging Face tokenizer.json and decodes it back.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model directory holding tokenizer.json (and optionally tokenizer_config.json)." };
        var tokenizerFile = new Option<string?>("--tokenizer") { Description = "A tokenizer.json file (instead of --model)." };
        var text = new Option<string>("--text") { Description = "Text to encode.", Required = true };
        var addSpecial = new Option<bool>("--add-special-tokens") { Description = "Apply the post-processor template (e.g. BOS)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: {\"ids\": [...], \"tokens\": [...], \"decoded\": \"...\"}." };
        var command = new Command("tokenize",
            "Encode a text with a Hugging Face byte-level BPE tokenizer and decode the ids back.\n\n" +
            "Examples:\n  federated tokenize --model tests/data/fixtures/tiny-llama --text \"hello world\"\n" +
            "  federated tokenize --tokenizer tests/data/fixtures/tokenizers/llama3/tokenizer.json --text \"hello world\" --json")
        {
            model, tokenizerFile, text, addSpecial, json,
        };
        command.SetAction(parse =>
        {
            string? dir = parse.GetValue(model), file = parse.GetValue(tokenizerFile);
            if ((dir is null) == (file is null)) throw new ArgumentException("Give exactly one of --model DIR or --tokenizer FILE.");
            if (dir is not null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"Model directory {dir} does not exist.");
            var tokenizer = HfTokenizer.Load(dir ?? file!);
            var ids = tokenizer.Encode(parse.GetValue(text)!, parse.GetValue(addSpecial));
            var tokens = ids.Select(id => tokenizer.IdToToken(id) ?? "").ToArray();
            var decoded = tokenizer.Decode(ids);

            if (parse.GetValue(json))
            {
                JsonOutput.Write(new { Ids = ids, Tokens = tokens, Decoded = decoded });
                return CliRunner.Ok;
            }
            var table = new Table().AddColumn("#").AddColumn("id").AddColumn("token").AddColumn("text");
            for (int i = 0; i < ids.Length; i++)
                table.AddRow(i.ToString(System.Globalization.CultureInfo.InvariantCulture), ids[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Markup.Escape(tokens[i]), Markup.Escape(Visible(tokenizer.Decode([ids[i]]))));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"{ids.Length} tokens; decoded: {decoded}");
            return CliRunner.Ok;
        });
        return command;
    }

    // Makes whitespace and control characters visible in the table (space → ·, newline → ↵, others → \uXXXX).
    private static string Visible(string s) => string.Concat(s.Select(c => c switch
    {
        ' ' => "·",
        '\n' => "↵",
        '\t' => "⇥",
        _ when char.IsControl(c) => $"\\u{(int)c:X4}",
        _ => c.ToString(),
    }));
}
