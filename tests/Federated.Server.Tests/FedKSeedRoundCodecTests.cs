using Federated.Aggregation.FedKSeed;
using Federated.Core.Seeds;
using Federated.Server.Strategies;

namespace Federated.Server.Tests;

public sealed class FedKSeedRoundCodecTests
{
    [Fact]
    public void Encode_RoundTrip_SameClientsAndExactSize()
    {
        // Arrange
        var clients = new List<ClientScalars>
        {
            new(3, [new SeedScalar(1, 0.5f), new SeedScalar(1023, -2f)]),
            new(7, [new SeedScalar(0, float.Epsilon)]),
        };

        // Act
        var bytes = FedKSeedRoundCodec.Encode(clients);
        var back = FedKSeedRoundCodec.Decode(bytes);

        // Assert
        Assert.Equal(4 + (12 + 16) + (12 + 8), bytes.Length);
        Assert.Equal(2, back.Count);
        Assert.Equal(clients[0].SampleCount, back[0].SampleCount);
        Assert.Equal(clients[0].Steps, back[0].Steps);
        Assert.Equal(clients[1].Steps, back[1].Steps);
    }

    [Fact]
    public void Decode_TruncatedOrTrailing_InvalidData()
    {
        // Arrange
        var bytes = FedKSeedRoundCodec.Encode([new ClientScalars(1, [new SeedScalar(1, 1f)])]);

        // Act
        var truncated = Record.Exception(() => FedKSeedRoundCodec.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        var trailing = Record.Exception(() => FedKSeedRoundCodec.Decode([.. bytes, 0]));

        // Assert
        Assert.IsType<InvalidDataException>(truncated);
        Assert.IsType<InvalidDataException>(trailing);
    }
}
