using Federated.Core.Lora;
using Federated.TestKit;

namespace Federated.Core.Tests.Lora;

public sealed class LoraConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lora-cfg-" + Guid.NewGuid().ToString("N"));

    public LoraConfigTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Load_Gpt2Fixture_ReadsRankAlphaTargetsAndFanInFanOut()
    {
        var c = LoraConfig.Load(Fixtures.Path("tiny-gpt2", "lora-adapter", "adapter_config.json"));
        Assert.Equal(4, c.Rank);
        Assert.Equal(8f, c.Alpha);
        Assert.Equal(2f, c.Scaling);
        Assert.True(c.FanInFanOut);
        Assert.Equal(["c_attn", "c_fc", "c_proj"], c.TargetModules);
        Assert.True(c.Targets("transformer.h.1.mlp.c_proj"));
        Assert.False(c.Targets("transformer.h.1.ln_2"));
    }

    [Theory]
    [InlineData("""{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj"],"rank_pattern":{"q_proj":8}}""", "rank_pattern")]
    [InlineData("""{"peft_type":"IA3","target_modules":["q_proj"]}""", "IA3")]
    [InlineData("""{"peft_type":"LORA","r":0,"lora_alpha":8,"target_modules":["q_proj"]}""", "r = 0")]
    [InlineData("""{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj"],"use_dora":true}""", "DoRA")]
    public void Load_UnsupportedConfig_ThrowsNamingFileAndProblem(string json, string mentioned)
    {
        string path = Path.Combine(_dir, "adapter_config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => LoraConfig.Load(path));
        Assert.Contains(mentioned, e.Message);
        Assert.Contains(path, e.Message);
    }
}
