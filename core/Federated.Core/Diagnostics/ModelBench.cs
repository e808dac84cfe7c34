using System.Diagnostics;
using Federated.Core.Generation;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Optim;
using Federated.Core.ZerothOrder;

namespace Federated.Core.Diagnostics;

/// <summary>What <see cref="ModelBench"/> measured; times are the median of the repeats, memory is peak resident set.</summary>
public sealed record ModelBenchResult(
    long Parameters, int Tokens, double ForwardMs, double ForwardTokensPerSecond, double ZoStepMs, double LoraStepMs,
    double GenerateTokensPerSecond, double InferencePeakMb, double ZoPeakMb);

/// <summary>
/// End-to-end engine timings on one model config, the shapes of tools/bench/torch_llama_ref.py so the two can be run
/// side by side: forward + loss on [batch, seqLen] random ids; one MeZO/FedKSeed step (two forwards, four in-place
/// seeded perturbations); one LoRA step (rank 8, α 16, every linear layer of the blocks: forward, backward, AdamW);
/// greedy generation with the KV cache. Weights are random N(0, 0.02²) (speed does not depend on their values).
/// Peak memory is Linux's VmHWM, reset through /proc/self/clear_refs before each phase where the kernel allows it.
/// </summary>
public static class ModelBench
{
    /// <summary>The reference config of the issue: vocab 8192, dim 512, 8 layers, 8 heads, 4 kv heads, ffn 1376.</summary>
    public static ModelConfig ReferenceConfig { get; } = new()
    {
        Architecture = ModelArchitecture.Llama, VocabSize = 8192, Dim = 512, LayerCount = 8, HeadCount = 8, KvHeadCount = 4,
        HeadDim = 64, FfnDim = 1376, MaxPositions = 256, NormEps = 1e-5f, TieWordEmbeddings = false,
    };

    /// <summary>Runs every phase, each for about <paramref name="secondsPerPhase"/> after one warm-up call.</summary>
    public static ModelBenchResult Run(ModelConfig config, int batchSize, int seqLen, double secondsPerPhase, Action<string>? progress = null)
    {
        var model = new CausalLm(config);
        var random = new SplitMix64(1234);
        var weights = model.Weights;
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(0.02 * Normal(ref random));
        var ids = new int[batchSize * seqLen];
        for (int i = 0; i < ids.Length; i++) ids[i] = (int)(random.NextDouble() * config.VocabSize);

        progress?.Invoke("forward");
        model.KeepActivationsForBackward = false;
        ResetPeak();
        double forward = Median(secondsPerPhase, () => model.ForwardLoss(ids, batchSize, seqLen));
        double inferencePeak = PeakMb();

        progress?.Invoke("zeroth-order step");
        var trainable = TrainableSet.All(model.Parameters);
        ulong seed = 1;
        ResetPeak();
        double zo = Median(secondsPerPhase, () =>
        {
            var step = ZerothOrderStep.Estimate(model, trainable, seed, 1e-3f, ids, batchSize, seqLen);
            ZerothOrderStep.Update(model, trainable, seed++, 1e-6f, step.ProjectedGradient);
        });
        double zoPeak = PeakMb();

        progress?.Invoke("generation");
        var prompt = ids.AsSpan(0, Math.Min(16, seqLen)).ToArray();
        var options = new GenerationOptions { MaxNewTokens = 64, StopAtEos = false };
        double generate = Median(secondsPerPhase, () => Generator.Generate(model, prompt, options));

        progress?.Invoke("LoRA step");
        model.KeepActivationsForBackward = true;
        model.TrainBaseWeights = false;
        var adapter = LoraAdapter.Create(model, new LoraConfig
        {
            Rank = 8, Alpha = 16, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        }, seed: 7);
        model.AttachAdapter(adapter);
        var optimizer = new AdamW(adapter.Parameters, new AdamWOptions { LearningRate = 1e-4f });
        double lora = Median(secondsPerPhase, () =>
        {
            adapter.ZeroGrad();
            model.ForwardLoss(ids, batchSize, seqLen);
            model.Backward();
            optimizer.Step();
        });

        int tokens = batchSize * seqLen;
        return new ModelBenchResult(CausalLm.CountParameters(config), tokens, forward * 1e3, tokens / forward, zo * 1e3, lora * 1e3,
            64 / generate, inferencePeak, zoPeak);
    }

    /// <summary>One warm-up call, then repeats until the time is spent (at least 3); the median in seconds.</summary>
    private static double Median(double seconds, Action action)
    {
        action();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || total.Elapsed.TotalSeconds < seconds)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static double Normal(ref SplitMix64 random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>VmHWM (peak resident set) in MB, or the process's peak working set where /proc is unavailable.</summary>
    private static double PeakMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
