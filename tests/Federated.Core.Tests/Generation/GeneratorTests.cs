using Federated.Core.Generation;
using Federated.Core.IO;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Generation;

public sealed class GeneratorTests
{
    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-gpt2")]
    public void ForwardCached_PromptInTwoChunks_LastLogitsMatchPyTorch(string model)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("prompt1.input_ids");
        var expected = reference.ReadFloat32("prompt1.logits");
        int vocab = lm.Config.VocabSize;
        var cache = new KvCache(lm.Config, 32);
        var logits = new float[vocab];

        // Act: positions 0..10, then 11..T-1, attending through the cache
        lm.ForwardCached(ids.AsSpan(0, 11), cache, logits);
        var afterFirst = logits.ToArray();
        lm.ForwardCached(ids.AsSpan(11), cache, logits);

        // Assert
        TensorAssert.Close(expected.AsSpan(10 * vocab, vocab), afterFirst, 1e-4, 0, "logits at position 10");
        TensorAssert.Close(expected.AsSpan((ids.Length - 1) * vocab, vocab), logits, 1e-4, 0, "logits at the last position");
        Assert.Equal(ids.Length, cache.Length);
    }

    [Fact]
    public void Generate_StopToken_StopsAfterEmittingIt()
    {
        // Arrange: the reference greedy path; stop at its 4th new id (first occurrence among the new ids)
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var prompt = reference.ReadInt32("prompt0.input_ids");
        var greedy = reference.ReadInt32("generate.prompt0.ids");
        int stop = greedy[prompt.Length + 3];
        int firstAt = Array.IndexOf(greedy, stop, prompt.Length);

        // Act
        var ids = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16, StopTokenIds = [stop] });

        // Assert
        Assert.Equal(greedy.AsSpan(0, firstAt + 1).ToArray(), ids);
    }

    [Fact]
    public void Generate_ConfigEos_StopsUnlessDisabled()
    {
        // Arrange: pretend the reference path's 3rd new id is the model's EOS (config carries eos_token_id).
        using var lm0 = CausalLm.Load(Fixtures.Path("tiny-llama"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var prompt = reference.ReadInt32("prompt0.input_ids");
        var greedy = reference.ReadInt32("generate.prompt0.ids");
        int eos = greedy[prompt.Length + 2];
        int firstAt = Array.IndexOf(greedy, eos, prompt.Length);
        using var lm = new CausalLm(lm0.Config with { EosTokenIds = [eos] });
        lm0.Weights.CopyTo(lm.Weights);

        // Act
        var stopped = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16 });
        var full = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16, StopAtEos = false });

        // Assert
        Assert.Equal(greedy.AsSpan(0, firstAt + 1).ToArray(), stopped);
        Assert.Equal(greedy, full);
    }

    [Fact]
    public void Generate_NearZeroTemperatureOrTinyTopP_EqualsGreedy()
    {
        // Arrange: with T = 1e-4 the smallest top-1/top-2 gap (0.0056, fixtures README) becomes e^-56: sampling is argmax.
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var prompt = reference.ReadInt32("prompt0.input_ids");
        var greedy = reference.ReadInt32("generate.prompt0.ids");

        // Act
        var cold = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16, Temperature = 1e-4f, Seed = 5 });
        var nucleus = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 16, Temperature = 1f, TopP = 1e-6f, Seed = 5 });

        // Assert
        Assert.Equal(greedy, cold);
        Assert.Equal(greedy, nucleus);
    }

    [Fact]
    public void Generate_SameSeed_SameSample_DifferentSeed_DifferentSample()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-gpt2"));
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-gpt2", "reference.safetensors"));
        var prompt = reference.ReadInt32("prompt2.input_ids");
        var options = new GenerationOptions { MaxNewTokens = 24, Temperature = 1.5f, TopP = 0.95f, Seed = 11 };

        // Act
        var a = Generator.Generate(lm, prompt, options);
        var b = Generator.Generate(lm, prompt, options);
        var c = Generator.Generate(lm, prompt, options with { Seed = 12 });

        // Assert
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(prompt.Length + 24, a.Length);
    }

    [Fact]
    public void Generate_PromptLongerThanContext_ThrowsNamingContextLength()
    {
        using var lm = CausalLm.Load(Fixtures.Path("tiny-gpt2"));
        var prompt = new int[lm.Config.MaxPositions + 1];
        var e = Assert.Throws<ArgumentException>(() => Generator.Generate(lm, prompt, new GenerationOptions()));
        Assert.Contains("context length of 256", e.Message);
    }

    [Fact]
    public void Generate_NearContextEnd_StopsAtContextLength()
    {
        using var lm = CausalLm.Load(Fixtures.Path("tiny-gpt2"));
        var prompt = new int[lm.Config.MaxPositions - 3];
        var ids = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(lm.Config.MaxPositions, ids.Length);
    }

    [Fact]
    public void ArgMax_Ties_ReturnsFirstIndex()
    {
        Assert.Equal(1, Generator.ArgMax([0f, 2f, 1f, 2f]));
    }

    [Fact]
    public void SplitMix64_Seed0_MatchesPublishedSequence()
    {
        // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c; also the first outputs used by xoshiro seeding).
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }
}
