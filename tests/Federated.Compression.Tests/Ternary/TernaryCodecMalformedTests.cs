using System.Buffers.Binary;
using Federated.Compression.Ternary;
using FsCheck;
using FsCheck.Xunit;

namespace Federated.Compression.Tests.Ternary;

public class TernaryCodecMalformedTests
{
    private static byte[] SamplePayload(double density = 0.1, int n = 100, int[]? lengths = null)
    {
        var rng = new Random(3);
        var delta = new float[n];
        for (int i = 0; i < n; i++) delta[i] = (float)(rng.NextDouble() * 2 - 1);
        return TernaryCodec.Encode(delta, new TernaryOptions { Density = density, TensorLengths = lengths });
    }

    /// <summary>Rewrites the trailing CRC so that a forged field reaches the structural checks.</summary>
    private static void FixChecksum(byte[] payload) =>
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(^4), Crc32.Compute(payload.AsSpan(0, payload.Length - 4)));

    [Fact]
    public void Decode_EveryTruncation_ThrowsInvalidData()
    {
        // Arrange
        byte[] payload = SamplePayload();

        // Act / Assert
        for (int length = 0; length < payload.Length; length++)
            Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(payload.AsSpan(0, length).ToArray()));
    }

    [Fact]
    public void Decode_EverySingleBitFlip_ThrowsInvalidData()
    {
        // Arrange: CRC-32 detects every single-bit error, and magic/version are checked first.
        byte[] payload = SamplePayload(lengths: [30, 70]);

        // Act / Assert
        for (int bit = 0; bit < payload.Length * 8; bit++)
        {
            var copy = (byte[])payload.Clone();
            copy[bit >> 3] ^= (byte)(1 << (bit & 7));
            Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(copy));
        }
    }

    [Fact]
    public void Decode_WrongChecksum_SaysChecksum()
    {
        byte[] payload = SamplePayload();
        payload[^1] ^= 0xFF;
        var ex = Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(payload));
        Assert.Contains("checksum", ex.Message);
    }

    [Fact]
    public void Decode_BadVersion_SaysVersion()
    {
        byte[] payload = SamplePayload();
        payload[4] = 2;
        FixChecksum(payload);
        var ex = Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(payload));
        Assert.Contains("version 2", ex.Message);
    }

    [Fact]
    public void Decode_BadMagic_SaysMagic()
    {
        byte[] payload = SamplePayload();
        payload[0] = (byte)'X';
        var ex = Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(payload));
        Assert.Contains("magic", ex.Message);
    }

    [Theory]
    [InlineData(8, 120, "keeps")]      // k > n (n = 100 at offset 7, k = 10 at 8, s = 1 at 9: one-byte varints)
    [InlineData(9, 0, "scales")]       // s = 0
    [InlineData(9, 101, "scales")]     // s > n
    [InlineData(7, 50, "position")]    // n smaller than the kept positions
    [InlineData(7, 0x80, "varint")]    // n is an unterminated varint that swallows the next bytes
    public void Decode_ForgedHeaderWithValidChecksum_ThrowsInvalidData(int offset, byte value, string expectedWord)
    {
        // Arrange
        byte[] payload = SamplePayload();
        payload[offset] = value;
        FixChecksum(payload);

        // Act
        var ex = Record.Exception(() => TernaryCodec.Decode(payload));

        // Assert
        var invalid = Assert.IsType<InvalidDataException>(ex);
        if (expectedWord != "varint") Assert.Contains(expectedWord, invalid.Message);
    }

    [Fact]
    public void Decode_TrailingBytes_ThrowsInvalidData()
    {
        byte[] payload = SamplePayload();
        var longer = new byte[payload.Length + 3];
        payload.AsSpan(0, payload.Length - 4).CopyTo(longer);
        FixChecksum(longer);
        var ex = Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(longer));
        Assert.Contains("unexpected bytes", ex.Message);
    }

    [Fact]
    public void Decode_BitmapCountMismatch_ThrowsInvalidData()
    {
        // Arrange: dense payload (bitmap); clear one marked bit of the bitmap.
        byte[] payload = TernaryCodec.Encode([1, -2, 3, -4, 5, -6, 7, -8], TernaryOptions.Default with { Density = 1 });
        payload[15] = 0x7F; // header: magic 4, version, coding, b, n, k, s, scale 4, P = 15 bytes
        FixChecksum(payload);

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => TernaryCodec.Decode(payload));

        // Assert
        Assert.Contains("marks 7 positions", ex.Message);
    }

    [Fact]
    public void Decode_DestinationWrongLength_ThrowsArgumentException()
    {
        byte[] payload = SamplePayload();
        Assert.Throws<ArgumentException>(() => TernaryCodec.Decode(payload, new float[99]));
    }

    [Property(MaxTest = 300)]
    public void Decode_RandomBodyWithValidChecksum_DecodesOrThrowsInvalidData(byte[] body, byte coding, byte rice)
    {
        // Arrange: a payload with the right magic and version, arbitrary fields, and a valid CRC, so every
        // structural check is exercised. Anything but a clean decode or InvalidDataException is a bug.
        body ??= [];
        var payload = new byte[7 + body.Length + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, 0x594E5254);
        payload[4] = 1;
        payload[5] = (byte)(coding % 3);
        payload[6] = (byte)(rice % 34);
        body.CopyTo(payload, 7);
        if (body.Length >= 3)
        {
            // Keep n, k and s small one-byte varints so that random bodies reach the stream parsers.
            payload[7] = (byte)(body[0] % 64);
            payload[8] = (byte)(body[1] % 16);
            payload[9] = (byte)(body[2] % 3);
        }
        FixChecksum(payload);

        // Act
        var ex = Record.Exception(() => TernaryCodec.Decode(payload));

        // Assert
        Assert.True(ex is null or InvalidDataException, $"Unexpected {ex?.GetType().Name}: {ex?.Message}");
    }
}
