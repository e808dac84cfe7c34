using System.Text;
using Federated.Core.IO;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "st-tests-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Write_AllTensorsOfFixture_ReproducesFileByteForByte()
    {
        // Arrange: tiny-gpt2/model.safetensors was written as the safetensors crate lays files out (see fixtures README).
        string source = Fixtures.Path("tiny-gpt2", "model.safetensors");
        using var file = SafeTensorsFile.Open(source);
        var tensors = file.Tensors.Select(t => new TensorToWrite(t.Name, t.Shape, file.ReadFloat32(t.Name))).ToList();
        string target = Path.Combine(_dir, "copy.safetensors");

        // Act
        SafeTensorsWriter.Write(target, tensors);

        // Assert
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
    }

    [Fact]
    public void Open_Bf16File_ConvertsExactlyToFloat32()
    {
        // Arrange: bf16 weights are the float32 weights rounded; upcasting must land within bf16's half-ulp (2^-9 relative).
        using var bf16 = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "bf16", "model.safetensors"));
        using var f32 = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "model.safetensors"));

        // Act
        var info = bf16.Info("model.norm.weight");
        var rounded = bf16.ReadFloat32("model.norm.weight");
        var exact = f32.ReadFloat32("model.norm.weight");

        // Assert
        Assert.Equal(SafeTensorsDType.BF16, info.DType);
        for (int i = 0; i < exact.Length; i++)
        {
            Assert.Equal(0u, BitConverter.SingleToUInt32Bits(rounded[i]) & 0xFFFF);
            Assert.InRange(Math.Abs(rounded[i] - exact[i]), 0, Math.Abs(exact[i]) / 256);
        }
    }

    [Fact]
    public void ReadFloat32_IntegerTensor_ThrowsNamingTensorAndFile()
    {
        // Arrange
        string path = Fixtures.Path("tiny-llama", "reference.safetensors");
        using var file = SafeTensorsFile.Open(path);

        // Act
        var e = Assert.Throws<InvalidDataException>(() => file.ReadFloat32("batch.input_ids"));

        // Assert
        Assert.Contains("batch.input_ids", e.Message);
        Assert.Contains("I64", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(100)]
    [InlineData(300_000)]
    public void Open_TruncatedFile_ThrowsNamingFile(int keepBytes)
    {
        // Arrange
        var bytes = File.ReadAllBytes(Fixtures.Path("tiny-llama", "model.safetensors"));
        string path = Path.Combine(_dir, "truncated.safetensors");
        File.WriteAllBytes(path, bytes.AsSpan(0, keepBytes).ToArray());

        // Act
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));

        // Assert
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Open_EntryOffsetsDisagreeWithShape_ThrowsNamingTensor()
    {
        // Arrange: shape [3] of F32 needs 12 bytes, the entry claims 8
        string path = Path.Combine(_dir, "bad.safetensors");
        WriteRaw(path, """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]);

        // Act
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));

        // Assert
        Assert.Contains("'w'", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Open_MalformedHeader_ThrowsInvalidData()
    {
        // Arrange
        string path = Path.Combine(_dir, "json.safetensors");
        WriteRaw(path, "{not json", []);

        // Act + Assert
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(Path.Combine(_dir, "none.safetensors")));
        Assert.Contains("none.safetensors", e.Message);
    }

    [Fact]
    public void Load_MissingFolder_ThrowsFileNotFound()
    {
        var e = Assert.Throws<FileNotFoundException>(() => CausalLm.Load(Path.Combine(_dir, "no-model")));
        Assert.Contains("no-model", e.Message);
    }

    [Fact]
    public void Load_UnknownArchitecture_ThrowsNamingConfigFile()
    {
        // Arrange
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"architectures": ["BertForMaskedLM"], "model_type": "bert"}""");

        // Act
        var e = Assert.Throws<InvalidDataException>(() => CausalLm.Load(_dir));

        // Assert
        Assert.Contains("BertForMaskedLM", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Load_ConfigDisagreesWithTensorShape_ThrowsNamingTensor()
    {
        // Arrange: intermediate_size 128 while the file's MLP weights are [160, 64]
        string config = File.ReadAllText(Fixtures.Path("tiny-llama", "config.json")).Replace("\"intermediate_size\": 160", "\"intermediate_size\": 128");
        File.WriteAllText(Path.Combine(_dir, "config.json"), config);
        File.Copy(Fixtures.Path("tiny-llama", "model.safetensors"), Path.Combine(_dir, "model.safetensors"));

        // Act
        var e = Assert.Throws<InvalidDataException>(() => CausalLm.Load(_dir));

        // Assert
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", e.Message);
        Assert.Contains("[160, 64]", e.Message);
    }

    [Fact]
    public void Load_MissingTensor_ThrowsNamingTensor()
    {
        // Arrange: the LLaMA file without lm_head.weight while the config says untied
        File.Copy(Fixtures.Path("tiny-llama", "config.json"), Path.Combine(_dir, "config.json"));
        using (var file = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "model.safetensors")))
            SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), file.Tensors.Where(t => t.Name != "lm_head.weight")
                .Select(t => new TensorToWrite(t.Name, t.Shape, file.ReadFloat32(t.Name))));

        // Act
        var e = Assert.Throws<InvalidDataException>(() => CausalLm.Load(_dir));

        // Assert
        Assert.Contains("lm_head.weight", e.Message);
    }

    [Fact]
    public void SaveWeights_ThenLoad_RestoresEveryWeightBitForBit()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-gpt2"));
        lm.Weights[123] = 4.5f;
        File.Copy(Fixtures.Path("tiny-gpt2", "config.json"), Path.Combine(_dir, "config.json"));

        // Act
        lm.SaveWeights(Path.Combine(_dir, "model.safetensors"));
        using var loaded = CausalLm.Load(_dir);

        // Assert
        Assert.True(lm.Weights.SequenceEqual(loaded.Weights));
    }

    [Fact]
    public void Load_ShardedF16_ReadsBothShards()
    {
        // Arrange + Act
        using var ckpt = Checkpoint.Open(Fixtures.Path("tiny-llama", "f16-sharded"));

        // Assert
        Assert.Equal(SafeTensorsDType.F16, ckpt.Info("lm_head.weight").DType);
        Assert.Equal(SafeTensorsDType.F16, ckpt.Info("model.embed_tokens.weight").DType);
        Assert.Equal(21, ckpt.Names.Count());
    }

    private static void WriteRaw(string path, string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((ulong)h.Length));
        s.Write(h);
        s.Write(data);
    }
}
