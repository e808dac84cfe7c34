using System.CommandLine;
using Federated.Core.Diagnostics;
using Federated.Core.Kernels;
using Federated.Core.Models;
using Spectre.Console;

namespace Federated.Cli.Commands;

/// <summary>
/// `federated bench`: GEMM GFLOP/s and end-to-end engine timings on the reference config of
/// tools/bench/torch_llama_ref.py, so ours and PyTorch's can be run side by side (docs/performance.md).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "Engine threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var config = new Option<string?>("--config") { Description = "A Hugging Face config.json to time instead of the reference config (vocab 8192, dim 512, 8 layers, 8/4 heads, ffn 1376)." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per forward.", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
        var seconds = new Option<double>("--seconds") { Description = "Time per measurement (after one warm-up).", DefaultValueFactory = _ => 3.0 };
        var skipGemm = new Option<bool>("--no-gemm") { Description = "Skip the GEMM sizes." };
        var replay = new Option<bool>("--replay") { Description = "Also time FedKSeed's sync of a stale client: replaying ΔH after 1, 2, 5, 20, 100 missed rounds (saturates at K seeds)." };
        var replaySeeds = new Option<int>("--replay-seeds") { Description = "--replay: K, the seed pool.", DefaultValueFactory = _ => 4096 };
        var replaySteps = new Option<int>("--replay-steps-per-round") { Description = "--replay: scalars added per round, M clients × τ steps.", DefaultValueFactory = _ => 2000 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (gemm, forward_ms, forward_tokens_per_s, zo_step_ms, lora_step_ms, generate_tokens_per_s, zo_peak_mb, inference_peak_mb, threads)." };
        var command = new Command("bench",
            "Measure the engine: GEMM GFLOP/s at n = 256…2048, forward, zeroth-order step, LoRA step, generation, peak memory.\n\n" +
            "Examples:\n  federated bench\n  federated bench --threads 2 --json\n  federated bench --config models/wordnet-base/config.json --batch-size 4 --no-gemm")
        {
            threads, config, batch, seqLen, seconds, skipGemm, replay, replaySeeds, replaySteps, json,
        };
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            EngineSettings.Apply(threadCount);
            var modelConfig = parse.GetValue(config) is { } path ? ModelConfig.Load(path) : ModelBench.ReferenceConfig;
            int batchSize = parse.GetValue(batch), tokens = parse.GetValue(seqLen);
            if (batchSize < 1) throw new ArgumentException("--batch-size must be at least 1.");
            if (tokens < 2 || tokens > modelConfig.MaxPositions) throw new ArgumentException($"--seq-len must be in [2, {modelConfig.MaxPositions}].");
            double perPhase = parse.GetValue(seconds);
            bool quiet = parse.GetValue(json);
            var gemm = parse.GetValue(skipGemm) ? [] : GemmBench.SquareSizes.Select(n =>
            {
                if (!quiet) Console.Error.WriteLine($"gemm n={n}…");
                return GemmBench.Run("AB", n, n, n, threadCount, Math.Min(perPhase, 2.0));
            }).ToList();
            var result = ModelBench.Run(modelConfig, batchSize, tokens, perPhase, quiet ? null : phase => Console.Error.WriteLine($"{phase}…"));
            var replayRows = parse.GetValue(replay)
                ? ReplayBench.Run(new CausalLm(modelConfig), parse.GetValue(replaySeeds), parse.GetValue(replaySteps), ReplayBench.DefaultRoundsBehind,
                    progress: quiet ? null : phase => Console.Error.WriteLine($"{phase}…"))
                : [];
            if (quiet)
            {
                JsonOutput.Write(new
                {
                    Gemm = gemm.Select(g => new { N = g.M, Gflops = Math.Round(g.GFlops, 1) }),
                    result.Parameters, result.Tokens, result.ForwardMs, ForwardTokensPerS = result.ForwardTokensPerSecond, result.ZoStepMs,
                    result.LoraStepMs, GenerateTokensPerS = result.GenerateTokensPerSecond, result.ZoPeakMb, result.InferencePeakMb, Threads = threadCount,
                    Replay = replayRows.Count == 0 ? null : replayRows.Select(r => new { r.RoundsBehind, r.StepsMissed, r.SeedsReplayed, Ms = Math.Round(r.Milliseconds, 1) }),
                });
                return CliRunner.Ok;
            }
            var table = new Table().AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
            foreach (var g in gemm) table.AddRow($"GEMM n={g.M}", $"{g.GFlops:F0} GFLOP/s");
            table.AddRow($"forward ({result.Tokens} tokens, {result.Parameters / 1e6:F1}M params)", $"{result.ForwardMs:F1} ms · {result.ForwardTokensPerSecond:F0} tok/s");
            table.AddRow("zeroth-order step (2 forwards + 4 perturbations)", $"{result.ZoStepMs:F1} ms");
            table.AddRow("LoRA step (r 8, all block linears, fwd+bwd+AdamW)", $"{result.LoraStepMs:F1} ms");
            table.AddRow("generation (KV cache, greedy)", $"{result.GenerateTokensPerSecond:F0} tok/s");
            table.AddRow("peak memory: inference / ZO step", $"{result.InferencePeakMb:F0} / {result.ZoPeakMb:F0} MB");
            foreach (var r in replayRows)
                table.AddRow($"FedKSeed sync, {r.RoundsBehind} rounds behind ({r.StepsMissed:N0} steps missed)",
                    $"{r.SeedsReplayed:N0} seeds · {r.Milliseconds:F0} ms ({r.MillisecondsPerSeed:F2} ms/seed)");
            AnsiConsole.Write(table);
            Console.WriteLine($"threads {threadCount}; compare: python3 tools/bench/torch_llama_ref.py (docs/performance.md)");
            return CliRunner.Ok;
        });
        return command;
    }
}
