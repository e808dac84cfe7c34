using Federated.Core.Tokenization;
using System.Text.Json;
using Federated.TestKit;

namespace Federated.Core.Tests.Tokenization;

/// <summary>
/// Parity with Hugging Face: every probe of tiny-llama/tokenizer-probes.json, tiny-gpt2/tokenizer-probes.json and
/// tokenizers/llama3/probes.json (ids and decodings made by @huggingface/tokenizers in Node and cross-checked by an
/// independent Python implementation, see tests/data/fixtures/README.md). One case per probe.
/// </summary>
public sealed class HfTokenizerProbeTests
{
    public static TheoryData<string, int, string> AllProbes()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var (folder, _) in TokenizerFixtures.ProbeFiles)
        {
            var probes = TokenizerFixtures.Probes(folder);
            for (int i = 0; i < probes.Length; i++)
            {
                var text = probes[i].GetProperty("text").GetString()!;
                data.Add(folder, i, JsonSerializer.Serialize(text.Length > 40 ? text[..40] : text)); // names the case
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllProbes))]
    public void Encode_Probe_MatchesHuggingFaceIds(string folder, int index, string preview)
    {
        // Arrange
        var tokenizer = TokenizerFixtures.Get(folder);
        var probe = TokenizerFixtures.Probes(folder)[index];
        var expected = TokenizerFixtures.Ints(probe.GetProperty("ids"));

        // Act
        var ids = tokenizer.Encode(probe.GetProperty("text").GetString()!);

        // Assert
        Assert.True(expected.SequenceEqual(ids), $"{folder} probe {index} {preview}: expected [{string.Join(",", expected)}], got [{string.Join(",", ids)}]");
    }

    [Theory]
    [MemberData(nameof(AllProbes))]
    public void Encode_Probe_TokensMatchHuggingFace(string folder, int index, string preview)
    {
        // Arrange
        var tokenizer = TokenizerFixtures.Get(folder);
        var probe = TokenizerFixtures.Probes(folder)[index];
        var expected = probe.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToArray();

        // Act
        var tokens = TokenizerFixtures.Ints(probe.GetProperty("ids")).Select(tokenizer.IdToToken).ToArray();

        // Assert
        Assert.True(expected.SequenceEqual(tokens), $"{folder} probe {index} {preview}: token strings differ");
    }

    [Theory]
    [MemberData(nameof(AllProbes))]
    public void Decode_Probe_MatchesHuggingFaceText(string folder, int index, string preview)
    {
        // Arrange
        var tokenizer = TokenizerFixtures.Get(folder);
        var probe = TokenizerFixtures.Probes(folder)[index];
        var ids = TokenizerFixtures.Ints(probe.GetProperty("ids"));

        // Act
        var decoded = tokenizer.Decode(ids, skipSpecialTokens: false, cleanUpSpaces: false);
        var skipped = tokenizer.Decode(ids, skipSpecialTokens: true, cleanUpSpaces: false);
        var cleaned = probe.TryGetProperty("decoded_cleanup", out _) ? tokenizer.Decode(ids) : null;

        // Assert
        Assert.True(probe.GetProperty("decoded").GetString() == decoded, $"{folder} probe {index} {preview}: decoded {JsonSerializer.Serialize(decoded)}");
        Assert.True(probe.GetProperty("decoded_skip_special").GetString() == skipped, $"{folder} probe {index} {preview}: skip-special decoded {JsonSerializer.Serialize(skipped)}");
        if (cleaned is not null)
            Assert.True(probe.GetProperty("decoded_cleanup").GetString() == cleaned, $"{folder} probe {index} {preview}: cleanup decoded {JsonSerializer.Serialize(cleaned)}");
    }

    [Theory]
    [InlineData("tiny-llama", 0)]
    [InlineData("tiny-llama", 1)]
    [InlineData("tiny-llama", 2)]
    [InlineData("tiny-gpt2", 0)]
    [InlineData("tiny-gpt2", 1)]
    [InlineData("tiny-gpt2", 2)]
    public void Encode_Prompt_MatchesReferenceInputIds(string folder, int index)
    {
        // Arrange: prompts.json texts; reference.safetensors prompt{i}.input_ids (no BOS, add_special_tokens=false).
        var tokenizer = TokenizerFixtures.Get(folder);
        using var prompts = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path(folder, "prompts.json")));
        var text = prompts.RootElement[index].GetString()!;
        var expected = TokenizerFixtures.ReadI64(Fixtures.Path(folder, "reference.safetensors"), $"prompt{index}.input_ids");

        // Act
        var ids = tokenizer.Encode(text);

        // Assert
        Assert.Equal(expected, ids.Select(x => (long)x));
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-gpt2")]
    public void Encode_BatchLines_MatchReferenceBatchInputIds(string folder)
    {
        // Arrange: batch.input_ids [2, 24] = first 24 ids of each batch.json row's text.
        var tokenizer = TokenizerFixtures.Get(folder);
        using var batch = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path(folder, "batch.json")));
        var rows = batch.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        var expected = TokenizerFixtures.ReadI64(Fixtures.Path(folder, "reference.safetensors"), "batch.input_ids");

        // Act
        var actual = rows.SelectMany(r => tokenizer.Encode(r.GetProperty("text").GetString()!).Take(24)).Select(x => (long)x).ToArray();
        var fullLengths = rows.Select(r => tokenizer.Encode(r.GetProperty("text").GetString()!).Length).ToArray();

        // Assert
        Assert.Equal(expected, actual);
        Assert.Equal(rows.Select(r => r.GetProperty("full_length").GetInt32()), fullLengths);
    }
}

/// <summary>
/// A Qwen-style file (Qwen2 Split regex with single digits, NFC normalizer) built from tiny-llama's, against ids that
/// Hugging Face's @huggingface/tokenizers produced for the same file (tests/data/tokenizer/qwen-style-hf.json).
/// </summary>
public sealed class QwenStyleTokenizerTests
{
    private static readonly Lazy<(HfTokenizer Tokenizer, System.Text.Json.JsonElement Expected)> Setup = new(() =>
    {
        var expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "tests", "data", "tokenizer", "qwen-style-hf.json"))).RootElement;
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixtures.Path("tiny-llama", "tokenizer.json")))!;
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = expected.GetProperty("pattern").GetString();
        json["normalizer"] = System.Text.Json.Nodes.JsonNode.Parse("""{"type": "NFC"}""");
        var dir = Directory.CreateTempSubdirectory("federated-qwen-").FullName; // no config files beside it
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        try { return (HfTokenizer.Load(dir), expected); }
        finally { Directory.Delete(dir, recursive: true); }
    });

    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, 56)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_QwenStyleText_MatchesHuggingFace(int index)
    {
        // Arrange
        var (tokenizer, expected) = Setup.Value;
        var text = expected.GetProperty("texts")[index].GetString()!;

        // Act
        var ids = tokenizer.Encode(text);
        var decoded = tokenizer.Decode(ids);

        // Assert
        Assert.Equal(TokenizerFixtures.Ints(expected.GetProperty("ids")[index]), ids);
        Assert.Equal(expected.GetProperty("decoded")[index].GetString(), decoded);
    }
}
