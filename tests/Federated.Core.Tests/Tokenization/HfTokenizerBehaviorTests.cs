using System.Text.Json.Nodes;
using Federated.Core.Tokenization;
using Federated.TestKit;

namespace Federated.Core.Tests.Tokenization;

/// <summary>Behaviour beyond the fixture probes: code-point regex classes, added-token flags, templates, configs, errors.</summary>
public sealed class HfTokenizerBehaviorTests : IDisposable
{
    private readonly string _tempDir = Directory.CreateTempSubdirectory("federated-tok-").FullName;

    public void Dispose() => Directory.Delete(_tempDir, recursive: true);

    /// <summary>
    /// Astral-plane letters/digits (UTF-16 surrogate pairs), Unicode whitespace, Arabic-Indic digits and upper-case
    /// contractions. Expected ids were computed once, independently, by tests/data/tokenizer/tools/ref_encode.py (Python `regex`
    /// findall with the file's pattern, GPT-2 bytes_to_unicode, rank-ordered BPE with ignore_merges; the same script
    /// reproduces the fixture's ignore_merges probe). Several of these differ when the split uses .NET's Regex
    /// (UTF-16 code units), e.g. " 𝟜" gives [82350, 253, 250] instead of [220, 57352, 253, 250] with Llama-3.
    /// </summary>
    [Theory]
    [InlineData("tokenizers/llama3", " \uD835\uDFDC", new[] { 220, 57352, 253, 250 })]
    [InlineData("tokenizers/llama3", "!  \uD835\uDFD9-", new[] { 0, 220, 220, 57352, 253, 247, 12 })]
    [InlineData("tokenizers/llama3", "\uD835\uDC65.Z\u4E2D", new[] { 57352, 239, 98, 13784, 16325 })]
    [InlineData("tokenizers/llama3", "a\uD835\uDD18b", new[] { 64, 57352, 242, 246, 65 })]
    [InlineData("tokenizers/llama3", "\uD83D\uDE42a", new[] { 9468, 19044, 64 })]
    [InlineData("tokenizers/llama3", "x\uD835\uDC65\u00B2 \uD800\uDF48\uD800\uDF30", new[] { 87, 57352, 239, 98, 30556, 109697, 238, 235, 230, 172, 238, 234, 108 })]
    [InlineData("tokenizers/llama3", "\uD835\uDFD9\uD835\uDFDA\uD835\uDFDB\uD835\uDFDC\uD835\uDFDD", new[] { 57352, 253, 247, 57352, 253, 248, 57352, 253, 249, 57352, 253, 250, 57352, 253, 251 })]
    [InlineData("tokenizers/llama3", "a  b\u0009\u000A\u000A  c  ", new[] { 64, 220, 293, 16176, 220, 272, 256 })]
    [InlineData("tokenizers/llama3", "\u00A0word\u3000x", new[] { 4194, 1178, 23249, 87 })]
    [InlineData("tokenizers/llama3", "\uD800\uDF00\uD800\uDF01 12345 \u0663\u0664\u0665\u0666", new[] { 172, 238, 40934, 172, 238, 234, 223, 220, 4513, 1774, 220, 117413, 124079, 124043, 149, 99 })]
    [InlineData("tokenizers/llama3", "IT'S we'RE they'Ll", new[] { 964, 13575, 584, 95253, 814, 92526, 75 })]
    [InlineData("tiny-gpt2", " \uD835\uDFDC", new[] { 220, 172, 251, 253, 250 })]
    [InlineData("tiny-gpt2", "\uD83D\uDE42a", new[] { 172, 253, 247, 224, 64 })]
    [InlineData("tiny-gpt2", "a  b\u0009\u000A\u000A  c  ", new[] { 64, 220, 293, 197, 271, 220, 272, 256 })]
    [InlineData("tiny-gpt2", "\u00A0word\u3000x", new[] { 126, 254, 86, 539, 159, 222, 222, 87 })]
    [InlineData("tiny-gpt2", "\uD800\uDF00\uD800\uDF01 12345 \u0663\u0664\u0665\u0666", new[] { 172, 238, 234, 222, 172, 238, 234, 223, 220, 16, 17, 18, 19, 20, 220, 149, 96, 149, 97, 149, 98, 149, 99 })]
    [InlineData("tiny-gpt2", "IT'S we're", new[] { 40, 51, 6, 50, 582, 6, 265 })]
    [InlineData("tiny-llama", "\uD835\uDC65.Z\u4E2D", new[] { 172, 251, 239, 98, 13, 57, 160, 116, 255 })]
    [InlineData("tiny-llama", "\uD83D\uDE42a", new[] { 172, 253, 247, 224, 64 })]
    [InlineData("tiny-llama", "a  b\u0009\u000A\u000A  c  ", new[] { 64, 220, 293, 197, 271, 220, 272, 256 })]
    public void Encode_CodePointCases_MatchIndependentReference(string folder, string text, int[] expected)
    {
        // Arrange
        var tokenizer = TokenizerFixtures.Get(folder);

        // Act
        var ids = tokenizer.Encode(text);

        // Assert
        Assert.Equal(expected, ids);
    }

    [Fact]
    public void Encode_ManyThreadsOnFreshTokenizer_SameIdsAsProbes()
    {
        // Arrange: a fresh instance so that threads race on the pre-token cache; expected ids from the probe file.
        var tokenizer = HfTokenizer.Load(Fixtures.Path("tokenizers", "llama3"));
        var probes = TokenizerFixtures.Probes("tokenizers/llama3");
        var work = Enumerable.Range(0, 8 * probes.Length).Select(i => probes[i % probes.Length]).ToArray();

        // Act
        var results = new int[work.Length][];
        Parallel.For(0, work.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => results[i] = tokenizer.Encode(work[i].GetProperty("text").GetString()!));

        // Assert
        for (int i = 0; i < work.Length; i++) Assert.Equal(TokenizerFixtures.Ints(work[i].GetProperty("ids")), results[i]);
    }

    [Fact]
    public void Load_DirectoryOrFile_ReadsConfigsAndSameIds()
    {
        // Arrange
        var dir = Fixtures.Path("tiny-llama");

        // Act
        var fromDir = HfTokenizer.Load(dir);
        var fromFile = HfTokenizer.Load(Path.Combine(dir, "tokenizer.json"));

        // Assert: tokenizer_config.json / generation_config.json say bos = eos = 706, pad = 707, no cleanup.
        Assert.Equal(708, fromDir.VocabSize);
        Assert.Equal((706, 706, 707), (fromDir.BosId, fromDir.EosId, fromDir.PadId));
        Assert.False(fromDir.CleanUpTokenizationSpaces);
        Assert.Equal(fromDir.Encode("mitosis: cell division"), fromFile.Encode("mitosis: cell division"));
        Assert.Equal(707, fromDir.TokenToId("<|pad|>"));
        Assert.Equal("<|pad|>", fromDir.IdToToken(707));
        Assert.Null(fromDir.IdToToken(708));
    }

    [Fact]
    public void Load_Llama3_BosEosAndCleanupFromTokenizerConfig()
    {
        // Act
        var tokenizer = TokenizerFixtures.Get("tokenizers/llama3");

        // Assert
        Assert.Equal(128256, tokenizer.VocabSize);
        Assert.Equal(128000, tokenizer.BosId);
        Assert.Equal(128001, tokenizer.EosId);
        Assert.True(tokenizer.CleanUpTokenizationSpaces);
    }

    [Fact]
    public void Encode_Llama3WithAddSpecialTokens_AddsNoBos()
    {
        // Arrange: this file's post_processor is ByteLevel only (fixtures README).
        var tokenizer = TokenizerFixtures.Get("tokenizers/llama3");

        // Act
        var ids = tokenizer.Encode("hello world", addSpecialTokens: true);

        // Assert
        Assert.Equal([15339, 1917], ids);
    }

    [Fact]
    public void Encode_TemplateProcessingWithAddSpecialTokens_AddsBos()
    {
        // Arrange: tiny-llama with Llama-3-8B's style of template, BOS = <|endoftext|> (706).
        var json = Fixture("tiny-llama");
        json["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [706], "tokens": ["<|endoftext|>"]}}}
            """);
        var tokenizer = HfTokenizer.Load(Write(json));

        // Act
        var plain = tokenizer.Encode("oversee: watch and direct");
        var withBos = tokenizer.Encode("oversee: watch and direct", addSpecialTokens: true);

        // Assert
        Assert.Equal([706, .. plain], withBos);
    }

    [Fact]
    public void Encode_AddedTokenWithLStripAndRStrip_SwallowsSurroundingSpaces()
    {
        // Arrange: hand-worked from tokenizers' find_matches: "a <x>  b" → "a" | "<x>" takes " " and "  " | "b".
        var tokenizer = HfTokenizer.Load(Write(WithAddedToken("<x>", lstrip: true, rstrip: true, singleWord: false)));
        int x = tokenizer.TokenToId("<x>")!.Value;

        // Act
        var ids = tokenizer.Encode("a <x>  b");

        // Assert
        Assert.Equal([.. tokenizer.Encode("a"), x, .. tokenizer.Encode("b")], ids);
    }

    [Fact]
    public void Encode_AddedTokenWithoutStrip_KeepsSpacesInNeighbours()
    {
        // Arrange
        var tokenizer = HfTokenizer.Load(Write(WithAddedToken("<x>", lstrip: false, rstrip: false, singleWord: false)));
        int x = tokenizer.TokenToId("<x>")!.Value;

        // Act
        var ids = tokenizer.Encode("a <x> b");

        // Assert
        Assert.Equal([.. tokenizer.Encode("a "), x, .. tokenizer.Encode(" b")], ids);
    }

    [Fact]
    public void Encode_SingleWordAddedToken_MatchesOnlyAsWholeWord()
    {
        // Arrange
        var tokenizer = HfTokenizer.Load(Write(WithAddedToken("cat", lstrip: false, rstrip: false, singleWord: true)));
        int cat = tokenizer.TokenToId("cat")!.Value;

        // Act
        var whole = tokenizer.Encode("a cat.");
        var inside = tokenizer.Encode("concat");

        // Assert
        Assert.Equal([.. tokenizer.Encode("a "), cat, .. tokenizer.Encode(".")], whole);
        Assert.DoesNotContain(cat, inside);
    }

    [Fact]
    public void Encode_NfcNormalizer_ComposesCombiningMarks()
    {
        // Arrange: Qwen2/3 files carry {"type": "NFC"}; it must work under InvariantGlobalization too.
        var json = Fixture("tiny-gpt2");
        json["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": [{"type": "NFC"}]}""");
        var tokenizer = HfTokenizer.Load(Write(json));

        // Act
        var decomposed = tokenizer.Encode("cafe\u0301 \u1100\u1161 \u212B");
        var composed = tokenizer.Encode("caf\u00e9 \uAC00 \u00C5");

        // Assert
        Assert.Equal(composed, decomposed);
    }

    [Fact]
    public void Decode_IncompleteUtf8_GivesReplacementChar()
    {
        // Arrange: "🙂" is [9468, 19044] in Llama-3; the first token alone is an incomplete UTF-8 sequence.
        var tokenizer = TokenizerFixtures.Get("tokenizers/llama3");

        // Act
        var text = tokenizer.Decode([9468]);

        // Assert
        Assert.Equal("\uFFFD", text);
    }

    [Fact]
    public void Decode_AddedTokenBetweenPartialBytes_DecodesRunsSeparately()
    {
        // Arrange: "🙂" = [9468, 19044]; an added token between its two halves ends the first byte run, which
        // then decodes to U+FFFD on its own (tokenizers' decode and tokenizers.js decode_chain both do this).
        var tokenizer = TokenizerFixtures.Get("tokenizers/llama3");

        // Act
        var withSpecial = tokenizer.Decode([9468, 128009, 19044]);
        var skipped = tokenizer.Decode([9468, 128009, 19044], skipSpecialTokens: true);

        // Assert: the second run is two lone continuation bytes, so two U+FFFD. Expected values checked once with
        // @huggingface/tokenizers 0.2.0 (Node). Skipped specials do not split the run.
        Assert.Equal("\uFFFD<|eot_id|>\uFFFD\uFFFD", withSpecial);
        Assert.Equal("\U0001F642", skipped);
    }

    [Fact]
    public void Decode_AddedTokenWithLatin1Chars_IsCopiedVerbatim()
    {
        // Arrange: "é" is also a byte-level alphabet char (byte 0xE9); as an added token it must come back as "é".
        var tokenizer = HfTokenizer.Load(Write(WithAddedToken("<é>", lstrip: false, rstrip: false, singleWord: false)));

        // Act
        var text = tokenizer.Decode(tokenizer.Encode("a<é>b"));

        // Assert
        Assert.Equal("a<é>b", text);
    }

    [Fact]
    public void Decode_CleanUp_AppliesTransformersRule()
    {
        // Act
        var cleaned = HfTokenizer.CleanUp("Hello , world ! I 'm sure it 's fine . Don 't ?");

        // Assert: transformers replaces " ." " ?" " !" " ," " ' " " n't" " 'm" " 's" " 've" " 're" in that order.
        Assert.Equal("Hello, world! I'm sure it's fine. Don 't?", cleaned);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        // Act + Assert
        var ex = Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(Path.Combine(_tempDir, "nope.json")));
        Assert.Contains("nope.json", ex.Message);
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}")]               // truncated JSON
    [InlineData("[1, 2, 3]")]                                                         // not an object
    [InlineData("{\"version\": \"1.0\"}")]                                          // no model
    [InlineData("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}")]              // unsupported model
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")] // bad id
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")] // merge of unknown token
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}")] // unsupported pre-tokenizer
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": null}")] // not byte-level
    public void Load_MalformedTokenizerJson_ThrowsInvalidDataNamingFile(string content)
    {
        // Arrange
        var path = Path.Combine(_tempDir, "broken-tokenizer.json");
        File.WriteAllText(path, content);

        // Act + Assert
        var ex = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(path));
        Assert.Contains("broken-tokenizer.json", ex.Message);
    }

    private static JsonObject Fixture(string folder) =>
        JsonNode.Parse(File.ReadAllText(Fixtures.Path(folder, "tokenizer.json")))!.AsObject();

    private static JsonObject WithAddedToken(string content, bool lstrip, bool rstrip, bool singleWord)
    {
        var json = Fixture("tiny-gpt2");
        json["added_tokens"]!.AsArray().Add(new JsonObject
        {
            ["id"] = 708, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip,
            ["normalized"] = false, ["special"] = false,
        });
        return json;
    }

    private string Write(JsonObject json)
    {
        var path = Path.Combine(_tempDir, $"tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }
}
