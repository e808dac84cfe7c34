using Federated.Core.Seeds;
using Federated.Protocol.V1;
using Google.Protobuf;

namespace Federated.Protocol.Tests;

public sealed class SeedScalarFormsTests
{
    [Fact]
    public void From_Steps_WritesParallelListsInOrder()
    {
        // Act
        var message = SeedScalars.From([new SeedScalar(7, 1.5f), new SeedScalar(2, -0.25f), new SeedScalar(7, 3f)]);

        // Assert
        Assert.Equal([7u, 2u, 7u], message.SeedIndices);
        Assert.Equal([1.5f, -0.25f, 3f], message.Scalars);
    }

    [Fact]
    public void Decode_SerializedMessage_ReturnsSameSteps()
    {
        // Arrange
        var message = new SeedScalars();
        message.SeedIndices.Add([4095u, 0u]);
        message.Scalars.Add([2f, -1f]);

        // Act
        var steps = SeedScalars.Decode(message.ToByteArray());

        // Assert
        Assert.Equal([new SeedScalar(4095, 2f), new SeedScalar(0, -1f)], steps);
    }

    [Fact]
    public void Decode_ListsOfDifferentLength_ThrowsInvalidData()
    {
        // Arrange
        var message = new SeedScalars();
        message.SeedIndices.Add([1u, 2u]);
        message.Scalars.Add(1f);

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => SeedScalars.Decode(message.ToByteArray()));

        // Assert
        Assert.Contains("2 seed_indices but 1 scalars", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NotProtobuf_ThrowsInvalidData()
    {
        // Act & Assert
        Assert.Throws<InvalidDataException>(() => SeedScalars.Decode([0xFF, 0xFF, 0xFF]));
    }
}
