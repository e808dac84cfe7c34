using System.Buffers.Binary;
using System.Text;
using Federated.Compression.SeedScalar;
using FsCheck.Xunit;

namespace Federated.Compression.Tests.SeedScalar;

using SeedScalar = Federated.Core.Seeds.SeedScalar;

public class SeedScalarCodecTests
{
    private const int K = 4096;
    private const int Tau = 200;

    private static SeedScalar[] Steps(int count, int seedCount, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, count).Select(_ => new SeedScalar(random.Next(seedCount), (float)(random.NextDouble() * 200 - 100))).ToArray();
    }

    [Fact]
    public void Crc32_CheckString_MatchesPublishedCheckValue()
    {
        // CRC-32/ISO-HDLC check value from the CRC RevEng catalogue: "123456789" → 0xCBF43926.
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void EncodeUplink_TauSteps_ExactByteLayout()
    {
        // Arrange
        var steps = new[] { new SeedScalar(1, 1f), new SeedScalar(4095, -2.5f) };

        // Act
        byte[] payload = SeedScalarCodec.EncodeUplink(K, steps);

        // Assert: 10-byte header, 2 × 6-byte pairs, CRC32.
        Assert.Equal(14 + 12, payload.Length);
        Assert.Equal(new byte[] { 1, 1, 0x00, 0x10, 0, 0, 2, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 0x80, 0x3F, 0xFF, 0x0F, 0x00, 0x00, 0x20, 0xC0 }, payload[..22]);
        Assert.Equal(Crc32.Compute(payload.AsSpan(0, 22)), BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(22)));
        Assert.Equal(1214, SeedScalarCodec.EncodeUplink(K, Steps(Tau, K, 1)).Length);
    }

    [Fact]
    public void EncodeDownlink_FewChanges_SparseOfExactSize()
    {
        // Act
        byte[] payload = SeedScalarCodec.EncodeDownlink(K, 3, 5, [new SeedScalar(2, 0.5f), new SeedScalar(9, -1f)]);

        // Assert
        Assert.Equal(SeedScalarCodec.KindSparse, payload[1]);
        Assert.Equal(22 + 12, payload.Length);
    }

    [Fact]
    public void EncodeDownlink_ManyChanges_DenseOfExactSize()
    {
        // Arrange: sparse would cost 22 + 6·2731 = 16408 > dense 18 + 4·4096 = 16402.
        var deltas = Enumerable.Range(0, 2731).Select(i => new SeedScalar(i, i + 1)).ToArray();

        // Act
        byte[] payload = SeedScalarCodec.EncodeDownlink(K, 0, 7, deltas);
        var decoded = SeedScalarCodec.DecodeDownlink(payload, K);

        // Assert
        Assert.Equal(SeedScalarCodec.KindDense, payload[1]);
        Assert.Equal(16402, payload.Length);
        Assert.Equal(deltas, decoded.Deltas);
        Assert.Equal((0u, 7u), (decoded.FromVersion, decoded.ToVersion));
        Assert.Equal(16402, SeedScalarCodec.DownlinkSize(K, 2731));
        Assert.Equal(16396, SeedScalarCodec.DownlinkSize(K, 2729)); // 22 + 6·2729: still sparse; 2730 ties and goes dense
    }

    [Fact]
    public void Budget_WorstCaseAtK4096Tau200_FitsIn18KiB()
    {
        // Arrange: worst uplink = τ pairs; worst downlink = every seed changed (dense is then the smaller form).
        byte[] up = SeedScalarCodec.EncodeUplink(K, Steps(Tau, K, 2));
        byte[] down = SeedScalarCodec.EncodeDownlink(K, 0, 1, Enumerable.Range(0, K).Select(i => new SeedScalar(i, 1e-3f * i + 1)).ToArray());
        int worstDownlink = Enumerable.Range(0, K + 1).Max(n => SeedScalarCodec.DownlinkSize(K, n));

        // Assert: 1,214 + 16,402 = 17,616 ≤ 18 KiB = 18,432 (and ≤ 18,000).
        Assert.Equal(1214, up.Length);
        Assert.Equal(16402, down.Length);
        Assert.Equal(16402, worstDownlink);
        Assert.True(up.Length + worstDownlink <= 18 * 1024);
    }

    [Property(MaxTest = 200)]
    public bool Uplink_RoundTrip_ReturnsSameSteps(ushort[] indices, float[] values)
    {
        int n = Math.Min(indices.Length, values.Length);
        var steps = Enumerable.Range(0, n).Select(i => new SeedScalar(indices[i] % K, float.IsFinite(values[i]) ? values[i] : 0f)).ToArray();
        var decoded = SeedScalarCodec.DecodeUplink(SeedScalarCodec.EncodeUplink(K, steps), K);
        return decoded.Length == n && decoded.Zip(steps).All(p => p.First.SeedIndex == p.Second.SeedIndex
            && BitConverter.SingleToInt32Bits(p.First.Value) == BitConverter.SingleToInt32Bits(p.Second.Value));
    }

    [Property(MaxTest = 200)]
    public bool Downlink_RoundTrip_ReturnsNonZeroDeltas(ushort[] indices, float[] values, uint from)
    {
        var deltas = indices.Select(i => i % 512).Distinct().Order().Zip(values, (i, v) => new SeedScalar(i, float.IsFinite(v) ? v : 1f)).ToArray();
        var decoded = SeedScalarCodec.DecodeDownlink(SeedScalarCodec.EncodeDownlink(512, from, from + 1, deltas), 512);
        return decoded.Deltas.SequenceEqual(deltas.Where(d => d.Value != 0)) && decoded.FromVersion == from && decoded.SeedCount == 512;
    }

    [Property(MaxTest = 300)]
    public bool DecodeUplink_AnyByteChangedOrTruncated_ThrowsInvalidData(byte position, byte flip, byte cut)
    {
        byte[] payload = SeedScalarCodec.EncodeUplink(K, Steps(20, K, 3));
        var corrupt = (byte[])payload.Clone();
        corrupt[position % payload.Length] ^= (byte)(flip | 1);
        byte[] truncated = payload[..(cut % payload.Length)];
        return Throws(() => SeedScalarCodec.DecodeUplink(corrupt, K)) && Throws(() => SeedScalarCodec.DecodeUplink(truncated, K));
    }

    [Property(MaxTest = 300)]
    public bool DecodeDownlink_AnyByteChangedOrTruncated_ThrowsInvalidData(byte position, byte flip, byte cut, bool dense)
    {
        var deltas = Enumerable.Range(0, dense ? 60 : 5).Select(i => new SeedScalar(i, i + 0.5f)).ToArray();
        byte[] payload = SeedScalarCodec.EncodeDownlink(64, 1, 2, deltas);
        var corrupt = (byte[])payload.Clone();
        corrupt[position % payload.Length] ^= (byte)(flip | 1);
        byte[] truncated = payload[..(cut % payload.Length)];
        return Throws(() => SeedScalarCodec.DecodeDownlink(corrupt, 64)) && Throws(() => SeedScalarCodec.DecodeDownlink(truncated, 64));
    }

    [Fact]
    public void DecodeUplink_IndexNotBelowK_ThrowsNamingTheIndex()
    {
        // Arrange: a well-formed payload for K = 8192 read by a server whose pool has K = 4096 after re-signing the K field.
        byte[] payload = SeedScalarCodec.EncodeUplink(8192, [new SeedScalar(5000, 1f)]);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(2), K);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(payload.Length - 4), Crc32.Compute(payload.AsSpan(0, payload.Length - 4)));

        // Act
        var error = Assert.Throws<InvalidDataException>(() => SeedScalarCodec.DecodeUplink(payload, K));

        // Assert
        Assert.Contains("seed index 5000", error.Message);
    }

    [Fact]
    public void DecodeUplink_NonFiniteScalar_Throws()
    {
        // Arrange: write NaN into the first pair and fix the checksum, so only the value check can object.
        byte[] payload = SeedScalarCodec.EncodeUplink(K, [new SeedScalar(3, 1f)]);
        BinaryPrimitives.WriteSingleLittleEndian(payload.AsSpan(12), float.NaN);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(payload.Length - 4), Crc32.Compute(payload.AsSpan(0, payload.Length - 4)));

        // Act / Assert
        Assert.Contains("non-finite", Assert.Throws<InvalidDataException>(() => SeedScalarCodec.DecodeUplink(payload, K)).Message);
    }

    [Fact]
    public void DecodeUplink_WrongVersionOrPoolSize_ThrowsWithReason()
    {
        byte[] payload = SeedScalarCodec.EncodeUplink(K, [new SeedScalar(3, 1f)]);
        Assert.Contains("K = 4096", Assert.Throws<InvalidDataException>(() => SeedScalarCodec.DecodeUplink(payload, 1024)).Message);
        payload[0] = 2;
        Assert.Contains("format version 2", Assert.Throws<InvalidDataException>(() => SeedScalarCodec.DecodeUplink(payload, K)).Message);
    }

    [Fact]
    public void Encode_InvalidEntries_ThrowArgumentException()
    {
        Assert.Throws<ArgumentException>(() => SeedScalarCodec.EncodeUplink(K, [new SeedScalar(K, 1f)]));
        Assert.Throws<ArgumentException>(() => SeedScalarCodec.EncodeUplink(K, [new SeedScalar(0, float.PositiveInfinity)]));
        Assert.Throws<ArgumentException>(() => SeedScalarCodec.EncodeDownlink(K, 0, 1, [new SeedScalar(5, 1f), new SeedScalar(5, 2f)]));
        Assert.Throws<ArgumentException>(() => SeedScalarCodec.EncodeDownlink(K, 2, 1, []));
    }

    private static bool Throws(Action action)
    {
        try { action(); return false; }
        catch (InvalidDataException) { return true; }
    }
}
