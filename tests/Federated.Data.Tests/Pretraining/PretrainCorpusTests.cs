using Federated.Data.Pretraining;

namespace Federated.Data.Tests.Pretraining;

public sealed class PretrainCorpusTests
{
    // Three examples; EOS = 0 follows each: 3 + 2 + 4 = 9 tokens per epoch, rows of 2 → 4 full rows (one token dropped).
    private static readonly int[][] Examples = [[1, 2], [3], [4, 5, 6]];

    [Fact]
    public void Constructor_SmallCorpus_CountsTokensAndRows()
    {
        // Act
        var corpus = new PretrainCorpus(Examples, eosId: 0, seqLen: 2, seed: 7);

        // Assert
        Assert.Equal(9, corpus.TokensPerEpoch);
        Assert.Equal(4, corpus.RowsPerEpoch);
    }

    [Fact]
    public void FillBatch_OneEpoch_IsAPermutationOfExamplesEachFollowedByEos()
    {
        // Arrange
        var corpus = new PretrainCorpus(Examples, eosId: 0, seqLen: 2, seed: 7);
        var rows = new int[8];

        // Act
        corpus.FillBatch(0, 4, rows);

        // Assert: the 8 tokens are a prefix of some order of "1 2 0", "3 0", "4 5 6 0".
        var orders = new[] { new[] { 0, 1, 2 }, [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0] };
        var streams = orders.Select(o => o.SelectMany(i => Examples[i].Append(0)).Take(8).ToArray());
        Assert.Contains(streams, s => s.SequenceEqual(rows));
    }

    [Fact]
    public void FillBatch_SameSeedAndStep_SameRowsInAnotherInstance()
    {
        // Arrange
        var a = new PretrainCorpus(Examples, 0, 2, seed: 3);
        var b = new PretrainCorpus(Examples, 0, 2, seed: 3);
        var rowsA = new int[6];
        var rowsB = new int[6];

        // Act: step 5 with 3 rows per step spans epochs 3 and 4.
        a.FillBatch(0, 3, new int[6]);
        a.FillBatch(5, 3, rowsA);
        b.FillBatch(5, 3, rowsB);

        // Assert
        Assert.Equal(rowsA, rowsB);
    }

    [Fact]
    public void TokenCounts_CountsEveryTokenAndOneEosPerExample()
    {
        // Act
        var counts = new PretrainCorpus(Examples, 0, 2, 1).TokenCounts(8);

        // Assert
        Assert.Equal([3L, 1, 1, 1, 1, 1, 1, 0], counts);
    }
}
