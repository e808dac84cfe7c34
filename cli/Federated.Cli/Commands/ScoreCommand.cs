using System.CommandLine;
using System.Text.Json;
using Federated.Core.IO;
using Federated.Core.Tokenization;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated score`: mean next-token cross-entropy of a model over a JSONL file of {"text": …} or {"ids": […]} lines,
/// token-weighted over every scored token (each sequence contributes its length − 1 targets).
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"Hugging Face checkpoint folder. Default: the bundled {BuiltinModel.RelativePath}." };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder." };
        var data = new Option<string>("--data") { Description = "JSONL file; each line {\"text\": \"…\"} or {\"ids\": [ … ]}.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print {\"loss\",\"perplexity\",\"tokens\",\"sequences\"} as one JSON object." };
        var command = new Command("score",
            "Score text with a model: mean next-token cross-entropy and perplexity.\n\n" +
            "Examples:\n  federated score --data notes.jsonl\n" +
            "  federated score --model tests/data/fixtures/tiny-gpt2 --data lines.jsonl --json")
        {
            model, adapter, data, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(data)!;
            var lines = Utf8Lines.Read(path);   // strict UTF-8: exit 2 naming the file and line
            var (lm, tokenizer) = ModelLoading.Load(BuiltinModel.Resolve(parse.GetValue(model)), parse.GetValue(adapter));
            double lossSum = 0;
            long tokens = 0;
            int sequences = 0;
            foreach (var (lineNumber, line) in lines)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                var ids = ReadIds(line, tokenizer, path, lineNumber, lm.Config.VocabSize);
                if (ids.Length > lm.Config.MaxPositions)
                    throw new InvalidDataException($"{path}:{lineNumber}: {ids.Length} tokens exceed the model's context length of {lm.Config.MaxPositions}.");
                if (ids.Length < 2) continue;
                lossSum += (double)lm.ForwardLoss(ids, 1, ids.Length) * (ids.Length - 1);
                tokens += ids.Length - 1;
                sequences++;
            }
            if (tokens == 0) throw new InvalidDataException($"{path}: no line has two or more tokens to score.");
            double loss = lossSum / tokens;
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"The loss over {path} is {loss}: the model's forward pass overflowed on finite weights.");
            if (parse.GetValue(json)) JsonOutput.Write(new { Loss = loss, Perplexity = Math.Exp(loss), Tokens = tokens, Sequences = sequences });
            else Console.WriteLine($"loss {loss:F6} · perplexity {Math.Exp(loss):F3} · {tokens:N0} tokens in {sequences:N0} sequences");
            return CliRunner.Ok;
        });
        return command;
    }

    private static int[] ReadIds(string line, HfTokenizer tokenizer, string path, int lineNumber, int vocabSize)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                return tokenizer.Encode(text.GetString()!);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ids", out var idsElement) && idsElement.ValueKind == JsonValueKind.Array)
            {
                var ids = idsElement.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                foreach (var id in ids)
                    if ((uint)id >= (uint)vocabSize)
                        throw new InvalidDataException($"{path}:{lineNumber}: token id {id} is outside the vocabulary of {vocabSize}.");
                return ids;
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}:{lineNumber}: not a JSON object with \"text\" or \"ids\" ({ex.Message}).");
        }
        throw new InvalidDataException($"{path}:{lineNumber}: expected {{\"text\": \"…\"}} or {{\"ids\": [ … ]}}.");
    }
}
