using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Models;

public sealed class ModelConfigTests
{
    [Fact]
    public void Load_TinyLlama_ReadsShapes()
    {
        var c = ModelConfig.Load(Fixtures.Path("tiny-llama"));
        Assert.Equal(ModelArchitecture.Llama, c.Architecture);
        Assert.Equal((64, 2, 4, 2, 16, 160, 708, 256), (c.Dim, c.LayerCount, c.HeadCount, c.KvHeadCount, c.HeadDim, c.FfnDim, c.VocabSize, c.MaxPositions));
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Equal(1e-5f, c.NormEps);
        Assert.Equal([706], c.EosTokenIds);
        Assert.Equal(176_960, CausalLm.CountParameters(c));
    }

    [Fact]
    public void Load_TinyGpt2_DefaultsTiedAndFfn()
    {
        var c = ModelConfig.Load(Fixtures.Path("tiny-gpt2"));
        Assert.Equal(ModelArchitecture.Gpt2, c.Architecture);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(256, c.FfnDim);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(161_792, CausalLm.CountParameters(c));
    }

    [Fact]
    public void Parse_RopeThetaInsideRopeParameters_IsRead()
    {
        var c = ModelConfig.Parse("""
            {"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,
             "intermediate_size":96,"vocab_size":10,"rope_parameters":{"rope_type":"default","rope_theta":500000.0},
             "eos_token_id":[1,2]}
            """);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal(4, c.KvHeadCount);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal([1, 2], c.EosTokenIds);
    }

    [Fact]
    public void Parse_Qwen2_HasQkvBiasesInHfOrder()
    {
        var c = ModelConfig.Parse("""
            {"architectures":["Qwen2ForCausalLM"],"hidden_size":32,"num_attention_heads":4,"num_key_value_heads":2,
             "num_hidden_layers":1,"intermediate_size":48,"vocab_size":10,"tie_word_embeddings":true,"rope_theta":1000000.0}
            """);
        using var lm = new CausalLm(c);
        Assert.Equal(
            ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
             "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.k_proj.bias",
             "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.v_proj.bias",
             "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
             "model.layers.0.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
             "model.layers.0.post_attention_layernorm.weight", "model.norm.weight"],
            lm.Parameters.Select(p => p.Name));
        Assert.Equal(CausalLm.CountParameters(c), lm.Weights.Length);
    }

    [Fact]
    public void Forward_Qwen2WithZeroBiases_EqualsLlamaWithSameWeights()
    {
        // Arrange: tiny-llama's weights in a Qwen2 model (same block plus q/k/v biases); zero biases ⇒ same logits,
        // a nonzero k bias ⇒ different logits (so the biases are wired in).
        using var llama = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var qc = llama.Config with { Architecture = ModelArchitecture.Qwen2, QkvBias = true };
        using var qwen = new CausalLm(qc);
        foreach (var p in llama.Parameters) p.Data.CopyTo(qwen.Parameter(p.Name).Data);
        int[] ids = [5, 300, 17, 706, 42, 9, 9, 100];

        // Act
        llama.Forward(ids, 1, ids.Length);
        var expected = llama.Logits.ToArray();
        qwen.Forward(ids, 1, ids.Length);
        var same = qwen.Logits.ToArray();
        qwen.Parameter("model.layers.0.self_attn.q_proj.bias").Data.Fill(0.5f);
        qwen.Forward(ids, 1, ids.Length);

        // Assert
        Assert.Equal(expected, same);
        Assert.NotEqual(expected, qwen.Logits.ToArray());
    }

    [Theory]
    [InlineData("""{"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_attention_heads":3,"num_key_value_heads":2,"num_hidden_layers":1,"intermediate_size":8,"vocab_size":10}""", "num_key_value_heads")]
    [InlineData("""{"architectures":["LlamaForCausalLM"],"num_attention_heads":4,"num_hidden_layers":1,"intermediate_size":8,"vocab_size":10}""", "hidden_size")]
    [InlineData("""{"architectures":["GPT2LMHeadModel"],"n_embd":64,"n_head":4,"n_layer":1,"vocab_size":10,"activation_function":"relu"}""", "relu")]
    [InlineData("""{"architectures":["MambaForCausalLM"]}""", "MambaForCausalLM")]
    public void Parse_BadConfig_ThrowsNamingTheProblem(string json, string mentioned)
    {
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json, "x/config.json"));
        Assert.Contains(mentioned, e.Message);
        Assert.Contains("x/config.json", e.Message);
    }
}
