using System.Buffers.Binary;
using Federated.Aggregation.FedKSeed;
using Federated.Core.Seeds;

namespace Federated.Server.Strategies;

/// <summary>
/// Stored form of one FedKSeed model version: the accepted clients' (sample count, steps) of the round that made it,
/// so the accumulator state is rebuilt by replaying them (an audit log as well as crash recovery). Layout, little
/// endian: u32 client count, then per client: i64 sample count, u32 step count, steps × (u32 seed index, f32 scalar).
/// Size: 4 + Σ (12 + 8·τᵢ) bytes (e.g. 2 clients × τ = 200: 3.2 KB).
/// </summary>
public static class FedKSeedRoundCodec
{
    public static byte[] Encode(IReadOnlyList<ClientScalars> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        int size = 4 + clients.Sum(c => 12 + 8 * c.Steps.Count);
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)clients.Count);
        int o = 4;
        foreach (var client in clients)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[o..], client.SampleCount);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(o + 8)..], (uint)client.Steps.Count);
            o += 12;
            foreach (var step in client.Steps)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span[o..], (uint)step.SeedIndex);
                BinaryPrimitives.WriteSingleLittleEndian(span[(o + 4)..], step.Value);
                o += 8;
            }
        }
        return bytes;
    }

    /// <exception cref="InvalidDataException">The bytes are not a stored FedKSeed round.</exception>
    public static List<ClientScalars> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) throw new InvalidDataException($"A stored FedKSeed round has {bytes.Length} bytes; at least 4 are needed.");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var clients = new List<ClientScalars>((int)Math.Min(count, 4096));
        int o = 4;
        for (uint c = 0; c < count; c++)
        {
            if (bytes.Length - o < 12) throw new InvalidDataException($"A stored FedKSeed round ends inside client {c}.");
            long samples = BinaryPrimitives.ReadInt64LittleEndian(bytes[o..]);
            uint steps = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(o + 8)..]);
            o += 12;
            if ((ulong)(bytes.Length - o) < steps * 8UL) throw new InvalidDataException($"A stored FedKSeed round ends inside client {c}'s steps.");
            var list = new SeedScalar[steps];
            for (int t = 0; t < steps; t++, o += 8)
                list[t] = new SeedScalar((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[o..]), BinaryPrimitives.ReadSingleLittleEndian(bytes[(o + 4)..]));
            clients.Add(new ClientScalars(samples, list));
        }
        if (o != bytes.Length) throw new InvalidDataException($"A stored FedKSeed round has {bytes.Length - o} trailing bytes.");
        return clients;
    }
}
