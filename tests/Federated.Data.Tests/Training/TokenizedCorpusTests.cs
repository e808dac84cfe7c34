using Federated.Core.Tokenization;
using Federated.Data.Training;
using Federated.TestKit;

namespace Federated.Data.Tests.Training;

/// <summary>The compact corpus must give back exactly what <see cref="ExampleEncoder.Encode"/> makes, example by example.</summary>
public sealed class TokenizedCorpusTests
{
    private static readonly InstructionExample[] Records = [.. BuiltinDataset.Load(DataSplit.Validation).Records.Take(60)];

    public static TheoryData<string, int> Cases => new()
    {
        { "tiny-llama", 256 },   // 708 ids: 16-bit storage
        { "tiny-llama", 12 },    // prompts cut from the front, responses cut short
        { "llama3", 256 },       // 128,256 ids, many above 65,535: 32-bit storage
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Indexer_EveryExample_EqualsTheEncodersOwn(string tokenizer, int maxLength)
    {
        var encoder = new ExampleEncoder(Load(tokenizer), maxLength);

        var corpus = TokenizedCorpus.Encode(encoder, Records);

        Assert.Equal(Records.Length, corpus.Count);
        long tokens = 0;
        for (int i = 0; i < Records.Length; i++)
        {
            var expected = encoder.Encode(Records[i]);
            var actual = corpus[i];
            Assert.Equal(expected.Ids, actual.Ids);
            Assert.Equal(expected.LossMask, actual.LossMask);
            Assert.Equal(expected.PromptLength, actual.PromptLength);
            tokens += expected.Ids.Length;
        }
        Assert.Equal(tokens, corpus.TokenCount);
    }

    [Fact]
    public void Encode_Llama3Records_StoresIdsAbove16Bits()
    {
        var encoder = new ExampleEncoder(Load("llama3"), 256);

        var corpus = TokenizedCorpus.Encode(encoder, Records);

        // The 32-bit path is only exercised if some id does not fit in 16 bits.
        Assert.Contains(corpus, e => e.Ids.Any(id => id > ushort.MaxValue));
    }

    [Fact]
    public void Indexer_OutOfRange_Throws()
    {
        var corpus = TokenizedCorpus.Encode(new ExampleEncoder(Load("tiny-llama"), 64), Records[..3]);

        Assert.Throws<ArgumentOutOfRangeException>(() => corpus[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => corpus[-1]);
    }

    private static HfTokenizer Load(string name) =>
        HfTokenizer.Load(name == "llama3" ? Fixtures.Path("tokenizers", "llama3") : Fixtures.Path(name));
}
