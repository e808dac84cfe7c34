using Federated.Core.Models;

namespace Federated.Core.Generation;

/// <summary>How to continue a prompt.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to add (generation also stops at the context length).</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>0 = greedy (argmax, first index on ties); otherwise logits are divided by it before sampling.</summary>
    public float Temperature { get; init; }
    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches TopP (1 = all).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Seed of the sampler's SplitMix64 stream.</summary>
    public ulong Seed { get; init; }
    /// <summary>Extra ids that end generation (included in the output).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Also stop at the model's eos_token_id(s) from config.json (default true).</summary>
    public bool StopAtEos { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad option.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"MaxNewTokens must be ≥ 0, got {MaxNewTokens}.");
        if (Temperature < 0 || float.IsNaN(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), $"Temperature must be ≥ 0, got {Temperature}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), $"TopP must be in (0, 1], got {TopP}.");
    }
}

/// <summary>
/// Autoregressive decoding with a KV cache: the prompt is run once (prefill), then one token per step.
/// Greedy = argmax; sampling = softmax(logits / T) restricted to the top-p nucleus, drawn with an owned SplitMix64.
/// Stops at max new tokens, the context length, config eos ids (StopAtEos) or StopTokenIds.
/// </summary>
public static class Generator
{
    /// <summary>Returns the prompt followed by the generated ids.</summary>
    /// <exception cref="ArgumentException">The prompt is empty or longer than the model's context length.</exception>
    public static int[] Generate(CausalLm model, ReadOnlySpan<int> prompt, GenerationOptions options)
    {
        KvCache? cache = null;
        return Generate(model, prompt, options, ref cache);
    }

    /// <summary>
    /// Like <see cref="Generate(CausalLm, ReadOnlySpan{int}, GenerationOptions)"/>, reusing <paramref name="cache"/>
    /// when it is large enough (else replacing it with a larger one): many generations in a row then allocate
    /// one cache, not one each.
    /// </summary>
    public static int[] Generate(CausalLm model, ReadOnlySpan<int> prompt, GenerationOptions options, ref KvCache? cache)
    {
        options.Validate();
        int context = model.Config.MaxPositions;
        if (prompt.IsEmpty) throw new ArgumentException("The prompt has no tokens.", nameof(prompt));
        if (prompt.Length > context)
            throw new ArgumentException($"The prompt has {prompt.Length} tokens, more than the model's context length of {context}.", nameof(prompt));
        int total = Math.Min(context, prompt.Length + options.MaxNewTokens);
        var output = new List<int>(total);
        foreach (var id in prompt) output.Add(id);
        if (total == prompt.Length) return [.. output];
        if (cache is null || cache.Capacity < total)
            cache = new KvCache(model.Config, Math.Min(context, Math.Max(total, (cache?.Capacity ?? 0) * 3 / 2)));
        cache.Reset();
        var logits = new float[model.Config.VocabSize];
        var rng = new SplitMix64(options.Seed);
        model.ForwardCached(prompt, cache, logits);
        Span<int> one = stackalloc int[1];
        while (true)
        {
            int next = options.Temperature == 0 ? ArgMax(logits) : Sample(logits, options.Temperature, options.TopP, ref rng);
            output.Add(next);
            if (output.Count >= total || options.StopTokenIds.Contains(next) || (options.StopAtEos && model.Config.EosTokenIds.Contains(next))) break;
            one[0] = next;
            model.ForwardCached(one, cache, logits);
        }
        return [.. output];
    }

    /// <summary>Index of the largest logit, the first one on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>Draws from softmax(logits / temperature) restricted to the top-p nucleus (ties ordered by id).</summary>
    public static int Sample(ReadOnlySpan<float> logits, float temperature, float topP, ref SplitMix64 rng)
    {
        int v = logits.Length;
        var order = new int[v];
        var probs = new double[v];
        double max = double.NegativeInfinity;
        for (int i = 0; i < v; i++) max = Math.Max(max, logits[i] / (double)temperature);
        double sum = 0;
        for (int i = 0; i < v; i++) { probs[i] = Math.Exp(logits[i] / (double)temperature - max); sum += probs[i]; order[i] = i; }
        for (int i = 0; i < v; i++) probs[i] /= sum;
        Array.Sort(order, (a, b) => probs[b] != probs[a] ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));
        int keep = 0;
        double mass = 0;
        while (keep < v) { mass += probs[order[keep]]; keep++; if (mass >= topP) break; }
        double u = rng.NextDouble() * mass, acc = 0;
        for (int k = 0; k < keep; k++)
        {
            acc += probs[order[k]];
            if (u < acc) return order[k];
        }
        return order[keep - 1];
    }
}
