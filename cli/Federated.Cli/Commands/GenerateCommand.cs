using System.CommandLine;
using Federated.Core.Generation;

namespace Federated.Cli.Commands;

/// <summary>`federated generate`: continues a prompt with a KV cache, greedy unless a temperature is given.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"Hugging Face checkpoint folder. Default: the bundled {BuiltinModel.RelativePath}." };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)." };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue (tokenized without special tokens).", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature; omit for greedy decoding." };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (with --temperature).", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed (with --temperature).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print {\"prompt_ids\",\"ids\",\"text\"} as one JSON object." };
        var command = new Command("generate",
            "Continue a prompt with a model (and optionally a LoRA adapter). Stops at EOS or --max-new-tokens.\n\n" +
            "Examples:\n  federated generate --prompt \"Define: harbor (noun)\"\n" +
            "  federated generate --model tests/data/fixtures/tiny-llama --prompt \"hello\" --max-new-tokens 16 --json\n" +
            "  federated generate --prompt \"A cat is\" --temperature 0.8 --top-p 0.9 --seed 7")
        {
            model, adapter, prompt, maxNew, temperature, topP, seed, json,
        };
        command.SetAction(parse =>
        {
            var (lm, tokenizer) = ModelLoading.Load(BuiltinModel.Resolve(parse.GetValue(model)), parse.GetValue(adapter));
            var promptIds = tokenizer.Encode(parse.GetValue(prompt)!);
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature) ?? 0f,
                TopP = parse.GetValue(topP), Seed = parse.GetValue(seed), StopTokenIds = tokenizer.EosIds,
            };
            var ids = Generator.Generate(lm, promptIds, options);
            var text = tokenizer.Decode(ids.AsSpan(promptIds.Length), skipSpecialTokens: true);
            if (parse.GetValue(json)) JsonOutput.Write(new { PromptIds = promptIds, Ids = ids, Text = text });
            else Console.WriteLine(parse.GetValue(prompt) + text);
            return CliRunner.Ok;
        });
        return command;
    }
}
