using Federated.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federated.Protocol.Tests;

public class MessageRoundTripTests
{
    private static BaseModelFingerprint Fingerprint() => new()
    {
        Sha256 = ByteString.CopyFrom(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
        Name = "tiny-llama",
        ParameterCount = 177_000,
    };

    [Fact]
    public void ClientUpdate_CompressedPayload_RoundTripsThroughBytes()
    {
        // Arrange
        var update = new ClientUpdate
        {
            FormatVersion = 1,
            ClientId = "c-1",
            RoundId = 7,
            ModelVersion = 6,
            BaseModel = Fingerprint(),
            SampleCount = 512,
            Compressed = new CompressedUpdate { Payload = ByteString.CopyFrom(1, 2, 3, 250) },
        };
        update.Metrics.Add("train_loss", 1.25);
        update.Compressed.Layout.Add(new TensorExtent { Name = "layers.0.q_proj.lora_B.weight", ElementCount = 4096 });

        // Act
        var parsed = ClientUpdate.Parser.ParseFrom(update.ToByteArray());

        // Assert
        Assert.Equal(update, parsed);
        Assert.Equal(ClientUpdate.PayloadOneofCase.Compressed, parsed.PayloadCase);
        Assert.Equal(1.25, parsed.Metrics["train_loss"]);
    }

    [Fact]
    public void RoundTask_FedKSeedWithProbabilities_RoundTripsThroughBytes()
    {
        // Arrange
        var task = new RoundTask
        {
            FormatVersion = 1,
            Availability = TaskAvailability.Assigned,
            RoundId = 3,
            Method = TrainingMethod.Fedkseed,
            Fedkseed = new FedKSeedParameters { SeedCount = 4, SeedPoolMasterSeed = ulong.MaxValue, LocalSteps = 10, Epsilon = 1e-3f, LearningRate = 3e-7f },
            ModelVersion = 2,
            Deadline = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)),
            BaseModel = Fingerprint(),
        };
        task.Fedkseed.SeedProbabilities.Add([0.1f, 0.2f, 0.3f, 0.4f]);

        // Act
        var parsed = RoundTask.Parser.ParseFrom(task.ToByteArray());

        // Assert
        Assert.Equal(task, parsed);
        Assert.Equal(RoundTask.HyperParametersOneofCase.Fedkseed, parsed.HyperParametersCase);
    }

    [Fact]
    public void SeedScalarDelta_PackedFields_UseOneLengthDelimitedRecord()
    {
        // Arrange: proto3 packs repeated scalars: field 2 (tag 0x12), length 2, varints 1 and 5;
        // field 3 (tag 0x1A), length 8, two little-endian floats.
        var delta = new SeedScalarDelta { FromVersion = 1 };
        delta.SeedIndices.Add([1u, 5u]);
        delta.ScalarDeltas.Add([1f, -2f]);
        byte[] expected = [0x08, 0x01, 0x12, 0x02, 0x01, 0x05, 0x1A, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0];

        // Act
        byte[] bytes = delta.ToByteArray();

        // Assert
        Assert.Equal(expected, bytes);
        Assert.Equal(delta, SeedScalarDelta.Parser.ParseFrom(bytes));
    }

    [Fact]
    public void FederationStatus_OriginalFields_KeepTheirWireNumbers()
    {
        // Arrange: fields 1–4 predate this version of the contract: 08 01 | 12 07 "compeft" | 18 03 | 20 04.
        var status = new FederationStatus { FormatVersion = 1, Method = "compeft", Round = 3, ModelVersion = 4 };
        byte[] expected = [0x08, 0x01, 0x12, 0x07, (byte)'c', (byte)'o', (byte)'m', (byte)'p', (byte)'e', (byte)'f', (byte)'t', 0x18, 0x03, 0x20, 0x04];

        // Act / Assert
        Assert.Equal(expected, status.ToByteArray());
    }

    [Fact]
    public void ModelChunk_Truncated_ThrowsInvalidProtocolBufferException()
    {
        // Arrange
        var chunk = new ModelChunk { FormatVersion = 1, Kind = ModelPayloadKind.FullCheckpoint, Data = ByteString.CopyFrom(new byte[100]), Last = true };
        byte[] bytes = chunk.ToByteArray();

        // Act / Assert
        Assert.Throws<InvalidProtocolBufferException>(() => ModelChunk.Parser.ParseFrom(bytes.AsSpan(0, bytes.Length - 10).ToArray()));
    }

    [Fact]
    public void Enrollment_RoundTripsThroughBytes()
    {
        var enrollment = new Enrollment
        {
            FormatVersion = 1,
            ClientId = "c-9",
            BearerToken = "secret",
            Federation = new FederationInfo { FederationId = "f", Method = TrainingMethod.Compeft, BaseModel = Fingerprint(), FormatVersion = 1, MaxMessageBytes = 4 << 20 },
        };
        Assert.Equal(enrollment, Enrollment.Parser.ParseFrom(enrollment.ToByteArray()));
    }
}
