using BenchmarkDotNet.Attributes;
using Federated.Core.Tokenization;

namespace Federated.Benchmarks;

/// <summary>
/// Encoding a dataset of short lines with the real Llama-3 tokenizer: cold (fresh tokenizer, empty pre-token cache)
/// and warm (cache filled). Lines are random 4–14 word sequences drawn from the Llama-3 probe texts (fixed seed).
/// dotnet run -c Release --project tests/Federated.Benchmarks -- --filter '*Tokenizer*'
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private string[] _lines = [];
    private string _folder = "";
    private HfTokenizer _warm = null!;

    [Params(100_000)]
    public int LineCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = FindFixture("tests/data/fixtures/tokenizers/llama3");
        using var probes = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_folder, "probes.json")));
        var words = probes.RootElement.EnumerateArray().SelectMany(p => p.GetProperty("text").GetString()!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var random = new Random(1);
        _lines = [.. Enumerable.Range(0, LineCount).Select(_ => string.Join(' ', Enumerable.Range(0, random.Next(4, 15)).Select(_ => words[random.Next(words.Length)])))];
        _warm = HfTokenizer.Load(_folder);
        foreach (var line in _lines) _warm.Encode(line);
    }

    [Benchmark]
    public long EncodeWarm()
    {
        long count = 0;
        foreach (var line in _lines) count += _warm.Encode(line).Length;
        return count;
    }

    [Benchmark]
    public long LoadAndEncodeCold()
    {
        var tokenizer = HfTokenizer.Load(_folder);
        long count = 0;
        foreach (var line in _lines) count += tokenizer.Encode(line).Length;
        return count;
    }

    private static string FindFixture(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }
}
