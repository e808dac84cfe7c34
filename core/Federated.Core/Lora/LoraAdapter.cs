using Federated.Core.IO;
using Federated.Core.Models;

namespace Federated.Core.Lora;

/// <summary>One wrapped projection: A [r, in], B [out, r] and the scaling s.</summary>
public sealed class LoraModule
{
    internal LoraModule(string modulePath, ParameterTensor a, ParameterTensor b, float scaling, bool conv1D)
    {
        ModulePath = modulePath;
        A = a;
        B = b;
        Scaling = scaling;
        Conv1D = conv1D;
    }

    /// <summary>Module path inside the base model, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public string ModulePath { get; }
    public ParameterTensor A { get; }
    public ParameterTensor B { get; }
    public int Rank => A.Shape[0];
    public float Scaling { get; }
    /// <summary>The base projection stores its weight [in, out] (GPT-2 Conv1D).</summary>
    public bool Conv1D { get; }

    /// <summary>Whether backward computes dA (false for FFA-LoRA, where A stays frozen at its seeded value).</summary>
    public bool TrainA { get; set; } = true;
}

/// <summary>
/// A PEFT LoRA adapter: its own parameter and gradient arenas (every lora_A then lora_B per module, in the base
/// model's module order), PEFT key names (<c>base_model.model.&lt;module&gt;.lora_A.weight</c>), load/save, fresh
/// initialisation (A kaiming-uniform U(−1/√in, 1/√in) from a seed, B = 0) and merge/unmerge into base weights.
/// </summary>
public sealed class LoraAdapter
{
    /// <summary>PEFT's prefix in adapter_model.safetensors keys.</summary>
    public const string KeyPrefix = "base_model.model.";

    private readonly float[] _weights;
    private readonly float[] _grads;
    private readonly List<ParameterTensor> _parameters = [];
    private readonly List<LoraModule> _modules = [];

    private LoraAdapter(LoraConfig config, IReadOnlyList<(string Path, int In, int Out, bool Conv1D)> targets)
    {
        Config = config;
        int r = config.Rank;
        long total = targets.Sum(t => (long)r * t.In + (long)t.Out * r);
        _weights = new float[total];
        _grads = new float[total];
        int cursor = 0;
        foreach (var t in targets)
        {
            var a = new ParameterTensor($"{KeyPrefix}{t.Path}.lora_A.weight", [r, t.In], cursor, _weights, () => _grads);
            cursor += a.Length;
            var b = new ParameterTensor($"{KeyPrefix}{t.Path}.lora_B.weight", [t.Out, r], cursor, _weights, () => _grads);
            cursor += b.Length;
            _parameters.Add(a);
            _parameters.Add(b);
            _modules.Add(new LoraModule(t.Path, a, b, config.Scaling, t.Conv1D));
        }
    }

    public LoraConfig Config { get; }

    /// <summary>The wrapped modules in base-model order.</summary>
    public IReadOnlyList<LoraModule> Modules => _modules;

    /// <summary>lora_A / lora_B tensors (PEFT key names) in module order — the seam for optimizers and ComPEFT.</summary>
    public IReadOnlyList<ParameterTensor> Parameters => _parameters;

    /// <summary>All adapter weights back to back (same order as <see cref="Parameters"/>).</summary>
    public Span<float> Weights => _weights;

    /// <summary>All adapter gradients, same layout as <see cref="Weights"/>.</summary>
    public Span<float> Gradients => _grads;

    /// <summary>Whether lora_A gradients are computed (set false for FFA-LoRA: A frozen, only B trained; dA stays zero).</summary>
    public bool TrainA
    {
        get => _modules.Count == 0 || _modules[0].TrainA;
        set { foreach (var m in _modules) m.TrainA = value; }
    }

    /// <summary>Sets the adapter gradients to zero.</summary>
    public void ZeroGrad() => Array.Clear(_grads);

    /// <summary>A fresh adapter for training: A ~ U(−1/√in, 1/√in) from <paramref name="seed"/> (kaiming_uniform a=√5), B = 0.</summary>
    public static LoraAdapter Create(CausalLm model, LoraConfig config, ulong seed)
    {
        var adapter = new LoraAdapter(config, Targets(model, config));
        var rng = new Generation.SplitMix64(seed);
        foreach (var m in adapter._modules)
        {
            float bound = 1f / MathF.Sqrt(m.A.Shape[1]);
            var a = m.A.Data;
            for (int i = 0; i < a.Length; i++) a[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        }
        return adapter;
    }

    /// <summary>Loads adapter_config.json + adapter_model.safetensors from a folder, for this base model.</summary>
    public static LoraAdapter Load(CausalLm model, string directory)
    {
        var config = LoraConfig.Load(System.IO.Path.Combine(directory, "adapter_config.json"));
        string weights = System.IO.Path.Combine(directory, "adapter_model.safetensors");
        using var file = SafeTensorsFile.Open(weights);
        // Modules = the targeted projections that the file has weights for (PEFT only saves wrapped modules).
        var targets = Targets(model, config).Where(t => file.Contains($"{KeyPrefix}{t.Path}.lora_A.weight")).ToList();
        foreach (var info in file.Tensors)
            if (!targets.Any(t => info.Name == $"{KeyPrefix}{t.Path}.lora_A.weight" || info.Name == $"{KeyPrefix}{t.Path}.lora_B.weight"))
                throw new InvalidDataException($"Adapter tensor '{info.Name}' in '{weights}' does not match a targeted projection of the base model.");
        if (targets.Count == 0) throw new InvalidDataException($"Adapter file '{weights}' has no lora_A weights for the target modules [{string.Join(", ", config.TargetModules)}].");
        var adapter = new LoraAdapter(config, targets);
        foreach (var p in adapter._parameters) file.ReadFloat32(p.Name, p.Data, p.Shape);
        return adapter;
    }

    /// <summary>Writes adapter_config.json and adapter_model.safetensors (PEFT keys, float32) into a folder.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Config.Save(System.IO.Path.Combine(directory, "adapter_config.json"));
        SafeTensorsWriter.Write(System.IO.Path.Combine(directory, "adapter_model.safetensors"),
            _parameters.Select(p => new TensorToWrite(p.Name, p.Shape, p.Memory)));
    }

    /// <summary>W += s·B A (Linear, [out, in]) or W += s·(B A)ᵀ (Conv1D, [in, out]) for every module; the model must not have this adapter attached.</summary>
    public void MergeInto(CausalLm model) => ApplyDelta(model, +1f);

    /// <summary>Reverses <see cref="MergeInto"/> (W −= the same delta; exact up to float32 rounding).</summary>
    public void UnmergeFrom(CausalLm model) => ApplyDelta(model, -1f);

    private void ApplyDelta(CausalLm model, float sign)
    {
        if (ReferenceEquals(model.Adapter, this))
            throw new InvalidOperationException("Detach the adapter before merging it, or its delta would count twice.");
        foreach (var m in _modules)
        {
            var w = model.Parameter(m.ModulePath + ".weight").Data;
            int r = m.Rank, inF = m.A.Shape[1], outF = m.B.Shape[0];
            var delta = new float[outF * inF];
            Kernels.MatMul.AB(m.B.Data, m.A.Data, delta, outF, r, inF); // B A [out, in]
            float s = sign * m.Scaling;
            if (!m.Conv1D)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(delta, s, w, w);
            else
                for (int o = 0; o < outF; o++)
                for (int i = 0; i < inF; i++)
                    w[i * outF + o] += s * delta[o * inF + i];
        }
    }

    private static List<(string Path, int In, int Out, bool Conv1D)> Targets(CausalLm model, LoraConfig config)
    {
        var list = model.Projections.Where(p => config.Targets(p.Path)).ToList();
        if (list.Count == 0)
            throw new InvalidDataException($"LoRA target_modules [{string.Join(", ", config.TargetModules)}] match no projection of the {model.Config.Architecture} model.");
        return list;
    }
}
