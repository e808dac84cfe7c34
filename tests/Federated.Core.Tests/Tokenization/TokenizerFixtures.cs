using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using Federated.Core.Tokenization;
using Federated.TestKit;

namespace Federated.Core.Tests.Tokenization;

/// <summary>Loads fixture tokenizers once per test run, and the probe files written by Hugging Face's tokenizers (JS).</summary>
internal static class TokenizerFixtures
{
    private static readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> Tokenizers = new();

    /// <summary>Fixture folder → probe file inside it.</summary>
    public static readonly (string Folder, string ProbeFile)[] ProbeFiles =
    [
        ("tiny-llama", "tokenizer-probes.json"),
        ("tiny-gpt2", "tokenizer-probes.json"),
        ("tokenizers/llama3", "probes.json"),
    ];

    public static HfTokenizer Get(string folder) =>
        Tokenizers.GetOrAdd(folder, f => new Lazy<HfTokenizer>(() => HfTokenizer.Load(Fixtures.Path(f.Split('/'))))).Value;

    public static JsonElement[] Probes(string folder)
    {
        var file = ProbeFiles.Single(p => p.Folder == folder).ProbeFile;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path([.. folder.Split('/'), file])));
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(x => x.GetInt32())];

    /// <summary>
    /// Reads one I64 tensor from a .safetensors file: 8-byte little-endian header length, JSON header
    /// {name: {dtype, shape, data_offsets: [begin, end]}}, then the data block (offsets relative to its start).
    /// </summary>
    public static long[] ReadI64(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var entry = header.RootElement.GetProperty(name);
        Assert.Equal("I64", entry.GetProperty("dtype").GetString());
        long begin = entry.GetProperty("data_offsets")[0].GetInt64(), end = entry.GetProperty("data_offsets")[1].GetInt64();
        var data = bytes.AsSpan((int)(8 + headerLength + begin), (int)(end - begin));
        var result = new long[data.Length / 8];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(data[(i * 8)..]);
        return result;
    }
}
