using Federated.Core.Kernels;
using Federated.Core.Models;

namespace Federated.Core.Tests.Kernels;

public sealed class RopeScalingTests
{
    [Fact]
    public void BuildTables_Llama3Scaling_InverseFrequenciesMatchTransformersFormula()
    {
        // Arrange: Llama-3.2-1B's values (theta 5e5, head_dim 64, factor 32, low 1, high 4, original 8192).
        // Expected scaled inverse frequencies computed once in float64 with Python from transformers'
        // _compute_llama3_parameters formula (i = 0, 10, 15, 16, 17, 20, 31).
        var config = ModelConfig.Parse("""
            {"architectures":["LlamaForCausalLM"],"hidden_size":2048,"num_attention_heads":32,"num_key_value_heads":8,
             "head_dim":64,"num_hidden_layers":1,"intermediate_size":8192,"vocab_size":16,"rope_theta":500000.0,
             "max_position_embeddings":4,
             "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}}
            """);
        (int I, double F)[] expected =
        [
            (0, 1.0), (10, 0.016560440080994446), (15, 0.001290547928209264), (16, 0.00042955679655936815),
            (17, 9.70828780262767e-05), (20, 8.570255489881478e-06), (31, 9.418306725434909e-08),
        ];
        var cos = new float[2 * 32];
        var sin = new float[2 * 32];

        // Act: position 1 holds sin(inv_freq) ≈ inv_freq for these small values (and sin(1) for i = 0)
        Rope.BuildTables(64, config.RopeTheta, 2, cos, sin, config.RopeScaling);

        // Assert
        Assert.Equal("llama3", config.RopeScaling!.Type);
        foreach (var (i, f) in expected)
            Assert.Equal(Math.Sin(f), sin[32 + i], Math.Abs(Math.Sin(f)) * 1e-5); // float32: ~1e-7 relative; unscaled values differ up to 32×
    }

    [Fact]
    public void Parse_UnsupportedRopeScaling_ThrowsNamingType()
    {
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse("""
            {"architectures":["LlamaForCausalLM"],"hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,
             "intermediate_size":8,"vocab_size":4,"rope_scaling":{"type":"yarn","factor":4.0}}
            """, "m/config.json"));
        Assert.Contains("yarn", e.Message);
    }

    [Fact]
    public void AttentionForward_WindowOfOne_EachQueryReadsOnlyItsOwnValue()
    {
        // Arrange: with a sliding window of 1 the softmax row has one live entry, so output[t] = v[t] exactly.
        int hd = 3, T = 4;
        var rng = new Random(3);
        var q = GradientCheck.Random(rng, T * hd);
        var k = GradientCheck.Random(rng, T * hd);
        var v = GradientCheck.Random(rng, T * hd);
        var o = new float[T * hd];

        // Act
        Attention.Forward(q, k, v, 1, 1, hd, T, T, T, 0, new float[T * T], o, window: 1);

        // Assert
        Assert.Equal(v, o);
    }

    [Fact]
    public void Parse_MistralSlidingWindow_IsRead()
    {
        var c = ModelConfig.Parse("""
            {"architectures":["MistralForCausalLM"],"hidden_size":8,"num_attention_heads":2,"num_key_value_heads":1,
             "num_hidden_layers":1,"intermediate_size":8,"vocab_size":4,"sliding_window":4096}
            """);
        Assert.Equal(4096, c.SlidingWindow);
        Assert.Equal(ModelArchitecture.Mistral, c.Architecture);
    }
}
