using Federated.Aggregation.FedKSeed;
using Federated.Core.Seeds;

namespace Federated.Aggregation.Tests.FedKSeed;

public class FedKSeedAccumulatorTests
{
    private static ClientScalars Client(long samples, params (int Seed, float G)[] steps) =>
        new(samples, steps.Select(s => new SeedScalar(s.Seed, s.G)).ToArray());

    [Fact]
    public void Apply_IdenticalUpdates_EqualsThatUpdateTimesWeightSum()
    {
        // Arrange: three clients with different data sizes and the same steps; the weights aᵢ = nᵢ/Σn sum to 1.
        var accumulator = new FedKSeedAccumulator(16);
        (int, float)[] steps = [(3, 0.5f), (7, -1.25f), (3, 2f), (15, 0.125f)];

        // Act
        accumulator.Apply(1, [Client(10, steps), Client(30, steps), Client(60, steps)]);

        // Assert: L[3] = 2.5, L[7] = −1.25, L[15] = 0.125 (dyadic, so exact), others 0.
        var expected = new double[16];
        expected[3] = 2.5; expected[7] = -1.25; expected[15] = 0.125;
        Assert.Equal(expected, accumulator.Values.ToArray());
    }

    [Fact]
    public void Apply_TwoClients_WeightsByDataSize()
    {
        // Arrange: hand-worked: a = (1/4, 3/4); H[0] = ¼·2 + ¾·(−2) = −1; H[1] = ¼·4 = 1; H[2] = ¾·8 = 6.
        var accumulator = new FedKSeedAccumulator(4);

        // Act
        accumulator.Apply(1, [Client(100, (0, 2f), (1, 4f)), Client(300, (0, -2f), (2, 8f))]);

        // Assert
        Assert.Equal([-1.0, 1.0, 6.0, 0.0], accumulator.Values.ToArray());
        Assert.Equal(1, accumulator.ChangedAt(2));
        Assert.Equal(0, accumulator.ChangedAt(3));
    }

    [Fact]
    public void Apply_ClientsAndStepsShuffled_BitIdenticalH()
    {
        // Arrange
        var random = new System.Random(5);
        var clients = Enumerable.Range(0, 12).Select(_ => new ClientScalars(random.Next(1, 5000),
            Enumerable.Range(0, 200).Select(_ => new SeedScalar(random.Next(64), (float)(random.NextDouble() * 20 - 10))).ToArray())).ToList();
        var shuffled = clients.OrderBy(_ => random.Next())
            .Select(c => c with { Steps = c.Steps.OrderBy(_ => random.Next()).ToArray() }).ToList();
        var a = new FedKSeedAccumulator(64);
        var b = new FedKSeedAccumulator(64);

        // Act
        a.Apply(1, clients);
        b.Apply(1, shuffled);

        // Assert
        Assert.True(a.Values.SequenceEqual(b.Values));
    }

    [Fact]
    public void DeltaSince_SeveralRounds_EqualsDifferenceOfRecordedStatesAndTouchesAtMostK()
    {
        // Arrange: 6 rounds of random sparse updates, recording H after each.
        const int k = 32;
        var random = new System.Random(11);
        var accumulator = new FedKSeedAccumulator(k);
        var states = new List<double[]> { new double[k] };
        for (int round = 1; round <= 6; round++)
        {
            var clients = Enumerable.Range(0, 3).Select(_ => new ClientScalars(random.Next(1, 100),
                Enumerable.Range(0, 5).Select(_ => new SeedScalar(random.Next(k), (float)random.NextDouble() - 0.5f)).ToArray())).ToList();
            accumulator.Apply(round, clients);
            states.Add(accumulator.Values.ToArray());
        }

        for (int version = 0; version <= 6; version++)
        {
            // Act
            var delta = accumulator.DeltaSince(version);

            // Assert
            Assert.True(delta.Count <= k);
            Assert.Equal(delta.OrderBy(d => d.SeedIndex).Select(d => d.SeedIndex), delta.Select(d => d.SeedIndex));
            var expected = new Dictionary<int, float>();
            for (int s = 0; s < k; s++)
            {
                float d = (float)(states[6][s] - states[version][s]);
                if (d != 0) expected[s] = d;
            }
            Assert.Equal(expected, delta.ToDictionary(d => d.SeedIndex, d => d.Value));
        }
        Assert.Empty(accumulator.DeltaSince(6));
    }

    [Fact]
    public void TrimHistory_OldVersion_ThrowsButRecentAndZeroStillAnswer()
    {
        // Arrange
        var accumulator = new FedKSeedAccumulator(4);
        accumulator.Apply(1, [Client(1, (0, 1f))]);
        accumulator.Apply(2, [Client(1, (1, 2f))]);
        accumulator.Apply(3, [Client(1, (0, 4f))]);
        var before = accumulator.DeltaSince(2);

        // Act
        accumulator.TrimHistory(2);

        // Assert
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.DeltaSince(1));
        Assert.Equal(before, accumulator.DeltaSince(2));
        Assert.Equal([new SeedScalar(0, 5f), new SeedScalar(1, 2f)], accumulator.DeltaSince(0));
    }

    [Fact]
    public void Restore_Snapshot_ContinuesIdentically()
    {
        // Arrange
        var original = new FedKSeedAccumulator(8);
        original.Apply(1, [Client(3, (1, 0.3f), (2, -0.7f))]);
        original.Apply(2, [Client(5, (2, 1.1f)), Client(2, (7, 0.9f))]);

        // Act
        var restored = FedKSeedAccumulator.Restore(original.Snapshot());
        original.Apply(4, [Client(1, (1, 2f))]);
        restored.Apply(4, [Client(1, (1, 2f))]);

        // Assert
        Assert.True(original.Values.SequenceEqual(restored.Values));
        Assert.Equal(original.Version, restored.Version);
        for (int v = 0; v <= 2; v++) Assert.Equal(original.DeltaSince(v), restored.DeltaSince(v));
    }

    [Fact]
    public void Restore_CorruptHistory_ThrowsInvalidData()
    {
        var snapshot = new FedKSeedSnapshot(2, 0, new double[4], new long[4], [0, 0], [2, 1], [1.0, 2.0]);
        Assert.Throws<InvalidDataException>(() => FedKSeedAccumulator.Restore(snapshot));
        Assert.Throws<InvalidDataException>(() => FedKSeedAccumulator.Restore(snapshot with { HistorySeed = [9, 0], HistoryVersion = [1, 2] }));
    }

    [Fact]
    public void Apply_InvalidInput_ThrowsWithClearMessage()
    {
        // Arrange
        var accumulator = new FedKSeedAccumulator(4);
        accumulator.Apply(1, []);

        // Act / Assert
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.Apply(1, []));
        Assert.Contains("seed index 4", Assert.Throws<ArgumentException>(() => accumulator.Apply(2, [Client(1, (4, 1f))])).Message);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => accumulator.Apply(2, [Client(1, (0, float.NaN))])).Message);
        Assert.Contains("sample count 0", Assert.Throws<ArgumentException>(() => accumulator.Apply(2, [Client(0, (0, 1f))])).Message);
    }
}
