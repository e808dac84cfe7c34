using Federated.Compression.Dense;
using Federated.Compression.Ternary;
using Federated.Server.Domain;
using Federated.Server.Strategies;

namespace Federated.Server.Tests;

public sealed class ComPeftStrategyTests
{
    // The hand-made vectors are O(1)–O(10), above the default U = 64·τ·η = 1.28, so U is set high unless a test is about it.
    private static ComPeftStrategy Create(float density, int n = 10, ComPeftAggregation aggregation = ComPeftAggregation.Mean, float downlink = 0,
        float maxUpdateElement = 100) =>
        new(new ComPeftStrategyOptions
        {
            UpdateElementCount = n, Density = density, Aggregation = aggregation, DownlinkDensity = downlink, MaxUpdateElement = maxUpdateElement,
        });

    private static AcceptedUpdate Update(string client, ulong samples, byte[] payload) =>
        new(client, 1, 0, samples, payload, [], new Dictionary<string, double>(), DateTimeOffset.UnixEpoch);

    private static RoundRecord Round() =>
        new(1, RoundPhase.Aggregating, RoundOutcome.None, 0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, ["a", "b"]);

    private static void AssertInvalid(ComPeftStrategy strategy, byte[] payload, string fragment)
    {
        var e = Assert.Throws<FederationException>(() => strategy.ValidateUpdate(strategy.ConfigureRound(1, 0), payload));
        Assert.Equal(FederationError.InvalidArgument, e.Error);
        Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ValidateUpdate_WellFormedTernary_Accepted()
    {
        var strategy = Create(0.2f);
        var payload = TernaryCodec.Encode([0, 3, 0, 0, -5, 0, 0, 0, 1, 0], new TernaryOptions { Density = 0.2 });
        strategy.ValidateUpdate(strategy.ConfigureRound(1, 0), payload);
    }

    [Fact]
    public void ValidateUpdate_WrongElementCount_Rejected()
    {
        var strategy = Create(0.2f, n: 10);
        AssertInvalid(strategy, TernaryCodec.Encode(new float[11] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 }, new TernaryOptions { Density = 0.2 }), "11 elements");
    }

    [Fact]
    public void ValidateUpdate_MalformedTernary_RejectedWithoutCrash()
    {
        // Arrange
        var strategy = Create(0.2f);
        var good = TernaryCodec.Encode([0, 3, 0, 0, -5, 0, 0, 0, 1, 0], new TernaryOptions { Density = 0.2 });

        // Act / Assert: every truncation and every single-bit flip is refused as INVALID_ARGUMENT.
        for (int len = 0; len < good.Length; len++) AssertInvalid(strategy, good[..len], "malformed");
        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<FederationException>(() => strategy.ValidateUpdate(strategy.ConfigureRound(1, 0), bad));
        }
        AssertInvalid(strategy, [], "malformed");
        AssertInvalid(strategy, "not a payload at all"u8.ToArray(), "malformed");
    }

    [Fact]
    public void ValidateUpdate_DenseInCompressedRoundOrTernaryInDenseRound_Rejected()
    {
        var dense = DenseUpdateCodec.Encode(new float[10]);
        var ternary = TernaryCodec.Encode([0, 3, 0, 0, -5, 0, 0, 0, 1, 0], new TernaryOptions { Density = 0.2 });
        AssertInvalid(Create(0.2f), dense, "malformed");
        AssertInvalid(Create(1f), ternary, "dense float32");
    }

    [Fact]
    public void ValidateUpdate_DenseNaN_Rejected()
    {
        var payload = DenseUpdateCodec.Encode(new float[10]);
        // Overwrite element 3 with NaN and recompute the CRC-32 (bitwise zlib CRC, written here independently).
        var bytes = (byte[])payload.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 9 + 4 * 3);
        uint crc = 0xFFFFFFFFu;
        foreach (byte x in bytes.AsSpan(0, bytes.Length - 4))
        {
            crc ^= x;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        crc ^= 0xFFFFFFFFu;
        BitConverter.GetBytes(crc).CopyTo(bytes, bytes.Length - 4);
        AssertInvalid(Create(1f), bytes, "element 3");
    }

    [Fact]
    public void ValidateUpdate_TernaryScaleBeyondMaxUpdateElement_InvalidArgument()
    {
        // Least-squares scale of the kept {3, −5} is 4: within U = 4, beyond U = 3.9.
        var payload = TernaryCodec.Encode([0, 3, 0, 0, -5, 0, 0, 0, 1, 0], new TernaryOptions { Density = 0.2, ScaleMode = TernaryScaleMode.LeastSquares });
        var within = Create(0.2f, maxUpdateElement: 4f);
        within.ValidateUpdate(within.ConfigureRound(1, 0), payload);
        AssertInvalid(Create(0.2f, maxUpdateElement: 3.9f), payload, "max_update_element");
    }

    [Fact]
    public void ValidateUpdate_DenseElementBeyondMaxUpdateElement_InvalidArgument()
    {
        var strategy = Create(1f, maxUpdateElement: 2f);
        strategy.ValidateUpdate(strategy.ConfigureRound(1, 0), DenseUpdateCodec.Encode([0, 2f, -2f, 0, 0, 0, 0, 0, 0, 0]));
        AssertInvalid(strategy, DenseUpdateCodec.Encode([0, 0, 0, 0, 0, 0, 0, -2.5f, 0, 0]), "element 7");
        AssertInvalid(strategy, DenseUpdateCodec.Encode([0, 0, 0, 0, 0, 0, 0, 0, 0, 3.4e38f]), "max_update_element");
    }

    [Fact]
    public void ConfigureRound_DefaultMaxUpdateElement_ScalesWithStepsAndLearningRate()
    {
        // U defaults to a multiple of τ·η (the AdamW bound on how far τ steps move one element), so it follows the round.
        var small = new ComPeftStrategy(new ComPeftStrategyOptions { UpdateElementCount = 4, LocalSteps = 10, LearningRate = 1e-3f });
        var large = new ComPeftStrategy(new ComPeftStrategyOptions { UpdateElementCount = 4, LocalSteps = 40, LearningRate = 1e-3f });
        float u10 = ((ComPeftRoundParameters)small.ConfigureRound(1, 0)).MaxUpdateElement;
        float u40 = ((ComPeftRoundParameters)large.ConfigureRound(1, 0)).MaxUpdateElement;
        Assert.True(u10 > 10 * 1e-3f * 3.17f, $"U = {u10} is below the AdamW bound of an honest update");
        Assert.Equal(4 * u10, u40, 1e-6f);
    }

    [Fact]
    public void Aggregate_DenseMean_IsSampleWeightedMean()
    {
        // Arrange: a (n = 1) = [1, 2], b (n = 3) = [5, −2] → [(1 + 15)/4, (2 − 6)/4] = [4, −1].
        var strategy = Create(1f, n: 2);
        var updates = new[] { Update("a", 1, DenseUpdateCodec.Encode([1f, 2f])), Update("b", 3, DenseUpdateCodec.Encode([5f, -2f])) };

        // Act
        var next = strategy.Aggregate(Round(), updates, []);
        strategy.Apply(new ModelVersionRecord(1, 1, next, DateTimeOffset.UnixEpoch));

        // Assert
        Assert.Equal([4f, -1f], DenseUpdateCodec.Decode(next));
        Assert.Equal(next, strategy.GetModelDelta(0).Payload);
        Assert.Empty(strategy.GetModelDelta(1).Payload);
    }

    [Fact]
    public void Aggregate_TernaryTies_DisjointMeanOfAgreeingClients()
    {
        // Arrange: least-squares scales make the decoded values exact: a → [4, 0, 0, −4], b → [2, 0, 2, 0] (after top-2).
        var strategy = Create(0.5f, n: 4, ComPeftAggregation.Ties);
        var ls = new TernaryOptions { Density = 0.5, ScaleMode = TernaryScaleMode.LeastSquares };
        var a = TernaryCodec.Encode([4f, 0f, 0f, -4f], ls);
        var b = TernaryCodec.Encode([2f, 0f, 2f, 0f], ls);

        // Act
        var merged = DenseUpdateCodec.Decode(strategy.Aggregate(Round(), [Update("a", 1, a), Update("b", 1, b)], []));

        // Assert: element 0 agrees (+): mean(4, 2) = 3; others have one voter each.
        Assert.Equal([3f, 0f, 2f, -4f], merged);
    }

    [Fact]
    public void GetModelDelta_SeveralVersionsBehind_SumsVersions()
    {
        // Arrange
        var strategy = Create(1f, n: 2);
        strategy.Apply(new ModelVersionRecord(1, 1, DenseUpdateCodec.Encode([1f, 1f]), DateTimeOffset.UnixEpoch));
        strategy.Apply(new ModelVersionRecord(2, 2, DenseUpdateCodec.Encode([0.5f, -2f]), DateTimeOffset.UnixEpoch));

        // Act / Assert
        Assert.Equal([1.5f, -1f], DenseUpdateCodec.Decode(strategy.GetModelDelta(0).Payload));
        var e = Assert.Throws<FederationException>(() => strategy.GetModelDelta(3));
        Assert.Equal(FederationError.FailedPrecondition, e.Error);
    }

    [Fact]
    public void Aggregate_DownlinkDensity_ReturnsTernaryPayload()
    {
        var strategy = Create(1f, n: 4, downlink: 0.5f);
        var next = strategy.Aggregate(Round(), [Update("a", 1, DenseUpdateCodec.Encode([1f, -3f, 0.1f, 2f]))], []);
        Assert.Equal(2, TernaryCodec.ReadHeader(next).KeptCount);
    }

    [Fact]
    public void Options_Invalid_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0.5f, n: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0.5f, downlink: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0.5f, maxUpdateElement: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0.5f, maxUpdateElement: float.PositiveInfinity));
    }
}
