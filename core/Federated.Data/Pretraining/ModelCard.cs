using System.Globalization;
using System.Text;
using Federated.Core.Models;
using Federated.Core.Tokenization;

namespace Federated.Data.Pretraining;

/// <summary>The README.md of a pretrained folder: what it is, how it was made (exact command), and its numbers.</summary>
internal static class ModelCard
{
    public static string Write(PretrainReport r, PretrainOptions o, ModelConfig c, HfTokenizer tokenizer, PretrainCorpus corpus,
        string commandLine, int evalExamples)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double x, string f = "F3") => double.IsNaN(x) ? "n/a" : x.ToString(f, inv);
        var e = r.Evaluation;
        var s = new StringBuilder();
        s.AppendLine("---");
        s.AppendLine("license: other");
        s.AppendLine("license_name: wordnet-3.0");
        s.AppendLine("library_name: federated");
        s.AppendLine("pipeline_tag: text-generation");
        s.AppendLine("---");
        s.AppendLine();
        s.AppendLine("# wordnet-base: Federated's built-in tiny base model");
        s.AppendLine();
        s.AppendLine("A small LLaMA-style causal language model trained from scratch by `federated pretrain` on the **pretraining split** of");
        s.AppendLine("Federated's built-in WordNet task (docs/data.md), so that federated fine-tuning works offline with no download.");
        s.AppendLine("It has seen the prompt template and WordNet definitions/categories of the pretraining words only; the train,");
        s.AppendLine("validation and test words (disjoint by construction) were never trained on. It is a starting point for");
        s.AppendLine("federated fine-tuning (`--data builtin`), not a useful general model.");
        s.AppendLine();
        s.AppendLine("## Command");
        s.AppendLine();
        s.AppendLine("```");
        s.AppendLine(commandLine);
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine("## Architecture");
        s.AppendLine();
        s.AppendLine("| | |");
        s.AppendLine("|---|---|");
        s.AppendLine($"| architecture | LlamaForCausalLM (RMSNorm, RoPE θ = {c.RopeTheta.ToString(inv)}, SwiGLU, grouped-query attention, tied embeddings) |");
        s.AppendLine($"| hidden size / layers | {c.Dim} / {c.LayerCount} |");
        s.AppendLine($"| heads / KV heads / head dim | {c.HeadCount} / {c.KvHeadCount} / {c.HeadDim} |");
        s.AppendLine($"| intermediate size | {c.FfnDim} |");
        s.AppendLine($"| vocabulary / max positions | {c.VocabSize} / {c.MaxPositions} |");
        s.AppendLine($"| parameters | {r.Parameters.ToString("N0", inv)} |");
        s.AppendLine($"| model.safetensors (F32) | {r.ModelBytes.ToString("N0", inv)} bytes |");
        s.AppendLine();
        s.AppendLine("## Tokenizer");
        s.AppendLine();
        s.AppendLine($"Byte-level BPE (Llama-3 split regex, GPT-2 byte alphabet) trained by Federated's `BpeTrainer` on the formatted");
        s.AppendLine($"pretraining texts (prompt template + response): {tokenizer.VocabSize} ids = 256 bytes + merges + `{PretrainCorpus.EndOfText}`");
        s.AppendLine($"(id {tokenizer.EosId}: BOS, EOS and the separator between packed examples) and `{PretrainCorpus.Pad}` (id {tokenizer.PadId}).");
        s.AppendLine();
        s.AppendLine("## Training");
        s.AppendLine();
        s.AppendLine($"- Data: `builtin:pretrain` (18,704 records: `definition` and `category` tasks), each formatted with `PromptTemplate.FormatWithResponse`,");
        s.AppendLine($"  followed by EOS, shuffled per epoch (seed {o.Seed}), packed into rows of {o.SeqLen} tokens: {corpus.TokensPerEpoch.ToString("N0", inv)} tokens per epoch.");
        s.AppendLine("  Plain next-token loss over every token.");
        s.AppendLine($"- AdamW (β1 0.9, β2 {o.Beta2.ToString(inv)}, ε 1e-8, weight decay {o.WeightDecay.ToString(inv)}), peak LR {o.LearningRate.ToString(inv)}, linear warm-up {o.WarmupSteps} steps,");
        s.AppendLine($"  cosine decay to {(o.LearningRate * o.MinLrRatio).ToString("G6", inv)}; gradient clipping at global norm {o.ClipNorm.ToString(inv)}; batch {o.BatchSize} × {o.SeqLen} tokens.");
        s.AppendLine($"- Init: N(0, 0.02²), residual projections N(0, (0.02/√{2 * c.LayerCount})²), RMSNorm weights 1.");
        s.AppendLine($"- Steps: {r.Steps} of {r.TotalSteps}{(r.Completed ? "" : " (stopped early by the time budget)")}; tokens seen: {r.TokensSeen.ToString("N0", inv)}" +
                     $" ({((double)r.TokensSeen / corpus.TokensPerEpoch).ToString("F2", inv)} epochs); training time {F(r.TrainingSeconds / 60, "F1")} min" +
                     $" ({F(r.TokensSeen / Math.Max(1e-9, r.TrainingSeconds), "F0")} tokens/s) on the CPU engine.");
        s.AppendLine($"- Final training loss (mean of the last 20 steps): {F(r.FinalTrainLoss)} nats/token.");
        s.AppendLine();
        s.AppendLine("Loss curve (mean training loss over each tenth of the run):");
        s.AppendLine();
        s.AppendLine("| up to step | loss |");
        s.AppendLine("|---:|---:|");
        foreach (var (step, loss) in r.LossCurve) s.AppendLine($"| {step} | {F(loss)} |");
        s.AppendLine();
        s.AppendLine("## Evaluation (test split)");
        s.AppendLine();
        s.AppendLine($"Loss = mean cross-entropy (nats) over the response tokens and EOS of the first {e.Examples} test records, prompt not scored;");
        s.AppendLine("Rouge-L F of greedy generations (64 new tokens) on the first 64 `definition` records; exact-match accuracy on the first 64 `category` records.");
        s.AppendLine();
        s.AppendLine("| model | loss | Rouge-L | accuracy |");
        s.AppendLine("|---|---:|---:|---:|");
        s.AppendLine($"| unigram baseline (add-one, pretraining counts) | {F(r.UnigramLoss)} | | |");
        s.AppendLine($"| wordnet-base | {F(e.Loss)} | {F(e.RougeL ?? double.NaN)} | {F(e.Accuracy ?? double.NaN)} |");
        s.AppendLine();
        s.AppendLine($"The unigram baseline on all {4828.ToString("N0", inv)} test records: {F(r.UnigramLossAllTest)} nats/token.");
        s.AppendLine("Reproduce the model's row with:");
        s.AppendLine();
        s.AppendLine("```");
        s.AppendLine($"federated eval --model models/wordnet-base --data builtin:test --max-examples {evalExamples}");
        s.AppendLine("```");
        s.AppendLine();
        if (e.Samples.Count > 0)
        {
            s.AppendLine("Sample greedy generations:");
            s.AppendLine();
            s.AppendLine("| task | prompt (instruction) | reference | generated |");
            s.AppendLine("|---|---|---|---|");
            foreach (var sample in e.Samples)
            {
                string instruction = sample.Prompt.Split("### Instruction:\n").Last().Split("\n\n").First();
                s.AppendLine($"| {sample.Task} | {Cell(instruction)} | {Cell(sample.Reference)} | {Cell(sample.Generated)} |");
            }
            s.AppendLine();
        }
        s.AppendLine("## Files");
        s.AppendLine();
        s.AppendLine("`config.json`, `model.safetensors` (F32, Hugging Face names), `tokenizer.json`, `tokenizer_config.json`,");
        s.AppendLine("`generation_config.json`: loadable by Federated's engine (`CausalLm.Load`, `HfTokenizer.Load`) and by transformers.");
        s.AppendLine();
        s.AppendLine("## License");
        s.AppendLine();
        s.AppendLine("Trained on text derived from Princeton WordNet 3.0 (see `data/wordnet/LICENSE-WordNet`); the weights carry the same attribution.");
        return s.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}
