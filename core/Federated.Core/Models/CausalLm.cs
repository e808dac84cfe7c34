using Federated.Core.IO;
using Federated.Core.Kernels;
using Federated.Core.Lora;

namespace Federated.Core.Models;

/// <summary>
/// A decoder-only causal LM (LLaMA / Qwen2 / Mistral block or GPT-2 block) in plain C#, float32.
/// Memory: one weight arena (every parameter, HF order, tied embedding once), one gradient arena (allocated on the
/// first backward with <see cref="TrainBaseWeights"/>), one activation arena sized by the (batch, seqLen) capacity.
/// After warm-up <see cref="Forward"/>, <see cref="ForwardLoss"/> and <see cref="Backward"/> allocate nothing.
/// Not thread-safe: one model instance per thread.
/// </summary>
public sealed partial class CausalLm : ICausalLm
{
    /// <summary>Targets equal to this are not scored (transformers' ignore_index).</summary>
    public const int IgnoreIndex = -100;

    private readonly float[] _weights;
    private float[]? _grads;
    private readonly List<ParameterTensor> _parameters = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Linear> _linears = new(StringComparer.Ordinal);
    private readonly List<Linear> _linearList = [];
    private readonly Layer[] _layers;
    private readonly ParameterTensor _embed;
    private readonly ParameterTensor? _positions;
    private readonly ParameterTensor _finalNormWeight;
    private readonly ParameterTensor? _finalNormBias;
    private readonly ParameterTensor _lmHead;
    private readonly float[] _ropeCos = [];
    private readonly float[] _ropeSin = [];
    private LoraAdapter? _lora;
    private int _maxLoraRank;
    private int _weightCursor;

    /// <summary>Creates a model with all weights zero (use <see cref="Load"/> for a checkpoint).</summary>
    public CausalLm(ModelConfig config)
    {
        Config = config;
        int d = config.Dim, hd = config.HeadDim, qDim = config.HeadCount * hd, kvDim = config.KvHeadCount * hd, f = config.FfnDim;
        long total = CountParameters(config);
        if (total > int.MaxValue) throw new ArgumentException($"The model has {total} parameters; this engine keeps at most {int.MaxValue} in one arena.", nameof(config));
        _weights = new float[total];
        _layers = new Layer[config.LayerCount];
        if (config.IsLlamaFamily)
        {
            _embed = Add("model.embed_tokens.weight", config.VocabSize, d);
            for (int i = 0; i < config.LayerCount; i++)
            {
                string p = $"model.layers.{i}.";
                var layer = new Layer
                {
                    Q = AddLinear(p + "self_attn.q_proj", d, qDim, config.QkvBias),
                    K = AddLinear(p + "self_attn.k_proj", d, kvDim, config.QkvBias),
                    V = AddLinear(p + "self_attn.v_proj", d, kvDim, config.QkvBias),
                    O = AddLinear(p + "self_attn.o_proj", qDim, d, config.OutputBias),
                    Gate = AddLinear(p + "mlp.gate_proj", d, f, false),
                    Up = AddLinear(p + "mlp.up_proj", d, f, false),
                    Down = AddLinear(p + "mlp.down_proj", f, d, false),
                };
                layer.Linears = [layer.Q, layer.K!, layer.V!, layer.O, layer.Gate!, layer.Up, layer.Down];
                layer.Norm1Weight = Add(p + "input_layernorm.weight", d);
                layer.Norm2Weight = Add(p + "post_attention_layernorm.weight", d);
                _layers[i] = layer;
            }
            _finalNormWeight = Add("model.norm.weight", d);
            _lmHead = config.TieWordEmbeddings ? _embed : Add("lm_head.weight", config.VocabSize, d);
            int half = hd / 2;
            _ropeCos = new float[config.MaxPositions * half];
            _ropeSin = new float[config.MaxPositions * half];
            Rope.BuildTables(hd, config.RopeTheta, config.MaxPositions, _ropeCos, _ropeSin, config.RopeScaling);
        }
        else
        {
            _embed = Add("transformer.wte.weight", config.VocabSize, d);
            _positions = Add("transformer.wpe.weight", config.MaxPositions, d);
            for (int i = 0; i < config.LayerCount; i++)
            {
                string p = $"transformer.h.{i}.";
                var layer = new Layer();
                layer.Norm1Weight = Add(p + "ln_1.weight", d);
                layer.Norm1Bias = Add(p + "ln_1.bias", d);
                layer.Q = AddConv1D(p + "attn.c_attn", d, 3 * d);
                layer.O = AddConv1D(p + "attn.c_proj", d, d);
                layer.Norm2Weight = Add(p + "ln_2.weight", d);
                layer.Norm2Bias = Add(p + "ln_2.bias", d);
                layer.Up = AddConv1D(p + "mlp.c_fc", d, f);
                layer.Down = AddConv1D(p + "mlp.c_proj", f, d);
                layer.Linears = [layer.Q, layer.O, layer.Up, layer.Down];
                _layers[i] = layer;
            }
            _finalNormWeight = Add("transformer.ln_f.weight", d);
            _finalNormBias = Add("transformer.ln_f.bias", d);
            _lmHead = config.TieWordEmbeddings ? _embed : Add("lm_head.weight", config.VocabSize, d);
        }
        if (_weightCursor != _weights.Length) throw new InvalidOperationException("Parameter count mismatch (engine bug).");
        _scratch = new Scratch();
    }

    /// <summary>Loads config.json and the safetensors weights (single file or sharded) of a Hugging Face checkpoint folder.</summary>
    /// <exception cref="FileNotFoundException">The folder, config.json or a weight file is missing.</exception>
    /// <exception cref="InvalidDataException">Unknown architecture, malformed file, missing tensor, wrong shape or dtype.</exception>
    public static CausalLm Load(string directory)
    {
        var config = ModelConfig.Load(directory);
        var model = new CausalLm(config);
        using var checkpoint = Checkpoint.Open(directory);
        model.LoadWeights(checkpoint);
        return model;
    }

    /// <summary>Reads every parameter from a checkpoint, converting F16/BF16 to float32.</summary>
    public void LoadWeights(Checkpoint checkpoint)
    {
        foreach (var p in _parameters)
        {
            string name = p.Name;
            // Original GPT-2 checkpoints store names without the "transformer." prefix.
            if (!checkpoint.Contains(name) && name.StartsWith("transformer.", StringComparison.Ordinal) && checkpoint.Contains(name["transformer.".Length..]))
                name = name["transformer.".Length..];
            checkpoint.ReadFloat32(name, p.Data, p.Shape);
        }
    }

    /// <summary>
    /// Writes every parameter as float32 under its HF name to a .safetensors file (a tied embedding once, no lm_head),
    /// so <see cref="LoadWeights"/> / <see cref="Load"/> (with the same config.json) read it back bit for bit.
    /// </summary>
    public void SaveWeights(string path) =>
        SafeTensorsWriter.Write(path, _parameters.Select(p => new TensorToWrite(p.Name, p.Shape, p.Memory)));

    /// <summary>Shapes and options from config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>Parameters in HF named_parameters() order; the tied embedding appears once.</summary>
    public IReadOnlyList<ParameterTensor> Parameters => _parameters;

    /// <summary>The parameter of this HF name.</summary>
    public ParameterTensor Parameter(string name) =>
        _byName.TryGetValue(name, out var p) ? p : throw new ArgumentException($"The model has no parameter '{name}'.", nameof(name));

    /// <summary>The weight arena (all parameters back to back, HF order).</summary>
    public Span<float> Weights => _weights;

    /// <summary>The gradient arena, allocated on demand (same layout as <see cref="Weights"/>).</summary>
    public Span<float> Gradients => EnableGradients();

    /// <summary>Whether <see cref="Backward"/> computes gradients of the base weights (false for LoRA-only training).</summary>
    public bool TrainBaseWeights { get; set; } = true;

    /// <summary>The attached LoRA adapter, if any.</summary>
    public LoraAdapter? Adapter => _lora;

    /// <summary>Allocates the gradient arena (once) and returns it.</summary>
    public Span<float> EnableGradients() => _grads ??= new float[_weights.Length];

    /// <summary>Zeroes base and adapter gradients.</summary>
    public void ZeroGrad()
    {
        _grads?.AsSpan().Clear();
        _lora?.ZeroGrad();
    }

    /// <summary>Number of parameters of a config (tied embedding counted once).</summary>
    public static long CountParameters(ModelConfig c)
    {
        long d = c.Dim, hd = c.HeadDim, q = c.HeadCount * hd, kv = c.KvHeadCount * hd, f = c.FfnDim, v = c.VocabSize;
        long head = c.TieWordEmbeddings ? 0 : v * d;
        if (c.IsLlamaFamily)
        {
            long attn = d * q + 2 * d * kv + q * d + (c.QkvBias ? q + 2 * kv : 0) + (c.OutputBias ? d : 0);
            long layer = attn + 3 * d * f + 2 * d;
            return v * d + c.LayerCount * layer + d + head;
        }
        long g = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * f + f) + (f * d + d);
        return v * d + (long)c.MaxPositions * d + c.LayerCount * g + 2 * d + head;
    }

    /// <summary>Attaches a LoRA adapter: every adapter module must name a projection of this model with matching shapes.</summary>
    public void AttachAdapter(LoraAdapter adapter)
    {
        DetachAdapter();
        foreach (var m in adapter.Modules)
        {
            if (!_linears.TryGetValue(m.ModulePath, out var lin))
                throw new InvalidDataException($"LoRA module '{m.ModulePath}' does not name a projection of this {Config.Architecture} model.");
            if (m.A.Shape[1] != lin.In || m.B.Shape[0] != lin.Out)
                throw new InvalidDataException($"LoRA module '{m.ModulePath}' has A [{string.Join(", ", m.A.Shape)}], B [{string.Join(", ", m.B.Shape)}]; the projection maps {lin.In} → {lin.Out}.");
        }
        foreach (var m in adapter.Modules) _linears[m.ModulePath].Lora = m;
        _lora = adapter;
        _maxLoraRank = adapter.Modules.Count == 0 ? 0 : adapter.Modules.Max(m => m.Rank);
        _layoutBatch = -1;
    }

    /// <summary>Removes the adapter (the base model computes without it again).</summary>
    public void DetachAdapter()
    {
        foreach (var lin in _linears.Values) lin.Lora = null;
        _lora = null;
        _maxLoraRank = 0;
        _layoutBatch = -1;
    }

    /// <summary>Module paths of every projection LoRA can target, with (in, out) features and whether it is a Conv1D.</summary>
    public IEnumerable<(string Path, int In, int Out, bool Conv1D)> Projections =>
        _linearList.Select(l => (l.Path, l.In, l.Out, l.Conv1D));

    /// <inheritdoc />
    public void Dispose() { }

    /// <inheritdoc />
    public void Perturb(ulong seed, float scale, ReadOnlySpan<Seeds.SeedTensor> tensors) =>
        Seeds.SeedNormal.AddScaledTensors(seed, _weights, tensors, scale, Kernels.EngineThreads.Count);

    private ParameterTensor Add(string name, params int[] shape)
    {
        var p = new ParameterTensor(name, shape, _weightCursor, _weights, () => _grads);
        _weightCursor += p.Length;
        _parameters.Add(p);
        _byName.Add(name, p);
        return p;
    }

    private Linear AddLinear(string path, int inFeatures, int outFeatures, bool bias)
    {
        var w = Add(path + ".weight", outFeatures, inFeatures);
        var b = bias ? Add(path + ".bias", outFeatures) : null;
        var lin = new Linear(path, inFeatures, outFeatures, false, w, b);
        _linears.Add(path, lin);
        _linearList.Add(lin);
        return lin;
    }

    private Linear AddConv1D(string path, int inFeatures, int outFeatures)
    {
        var w = Add(path + ".weight", inFeatures, outFeatures);
        var b = Add(path + ".bias", outFeatures);
        var lin = new Linear(path, inFeatures, outFeatures, true, w, b);
        _linears.Add(path, lin);
        _linearList.Add(lin);
        return lin;
    }

    /// <summary>One block's parameters and the activation-arena offsets of what its backward needs.</summary>
    private sealed class Layer
    {
        public ParameterTensor Norm1Weight = null!, Norm2Weight = null!;
        public ParameterTensor? Norm1Bias, Norm2Bias;
        // LLaMA: Q, K, V, O, Gate, Up, Down. GPT-2: Q = c_attn (fused qkv), O = attn.c_proj, Up = c_fc, Down = mlp.c_proj.
        public Linear Q = null!, O = null!, Up = null!, Down = null!;
        public Linear? K, V, Gate;
        /// <summary>Every projection of the block (fixed after construction).</summary>
        public Linear[] Linears = [];
        // activation offsets
        public int ResIn, H1, N1a, N1b, Qh, Kh, Vh, P, AttOut, ResMid, H2, N2a, N2b, MlpA, MlpB, Act;

        public void CopyOffsetsFrom(Layer o)
        {
            (ResIn, H1, N1a, N1b, Qh, Kh, Vh, P) = (o.ResIn, o.H1, o.N1a, o.N1b, o.Qh, o.Kh, o.Vh, o.P);
            (AttOut, ResMid, H2, N2a, N2b, MlpA, MlpB, Act) = (o.AttOut, o.ResMid, o.H2, o.N2a, o.N2b, o.MlpA, o.MlpB, o.Act);
            for (int i = 0; i < Linears.Length; i++) Linears[i].LoraU = o.Linears[i].LoraU;
        }
    }
}
