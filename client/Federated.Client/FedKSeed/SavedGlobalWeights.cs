using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Federated.Client.FedKSeed;

/// <summary>
/// The FedKSeed trainer's exact global weights in its state directory (<c>fedkseed-weights.bin</c>), so a restarted
/// client holds the very bits it had instead of rebuilding them from ΔH since version 0 in one step (float32 replay is
/// not associative: one step from 0 and the version-by-version steps differ in the last bits, and so would the scalars
/// it then computes). Layout: "FKGW", u32 format 1, i64 version, i64 weight count, 32-byte lineage (SHA-256 of the base
/// weights and the trainable pattern), the weights (float32 LE), then SHA-256 of everything before it. Written after
/// every sync to a temp file, flushed to disk and renamed over, so a kill leaves the old or the new file, never a mix.
/// A file of another lineage or length, or with a bad checksum, is ignored (the client then rebuilds from version 0).
/// </summary>
internal sealed class SavedGlobalWeights(string directory, byte[] lineage)
{
    public const string FileName = "fedkseed-weights.bin";
    private const uint Format = 1;
    private const int HeaderBytes = 4 + 4 + 8 + 8 + 32;
    private const int Chunk = 1 << 20;   // weights per read or write
    private static readonly byte[] Magic = "FKGW"u8.ToArray();

    private string Path => System.IO.Path.Combine(directory, FileName);

    /// <summary>Whether a saved file exists (its contents are checked by <see cref="TryRead"/>).</summary>
    public static bool Exists(string directory) => File.Exists(System.IO.Path.Combine(directory, FileName));

    /// <summary>The lineage of a trainer: SHA-256 over the base weights' bytes and the trainable pattern.</summary>
    public static byte[] Lineage(ReadOnlySpan<float> baseWeights, string? trainablePattern)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes(baseWeights));
        hash.AppendData([0]);
        hash.AppendData(Encoding.UTF8.GetBytes(trainablePattern ?? ""));
        return hash.GetHashAndReset();
    }

    /// <summary>Reads the saved weights into <paramref name="weights"/> and returns their version; null when there is
    /// no usable file (then <paramref name="weights"/> may have been overwritten: the caller restores them).</summary>
    public long? TryRead(Span<float> weights)
    {
        if (!File.Exists(Path)) return null;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length != HeaderBytes + 4L * weights.Length + 32) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[HeaderBytes];
        stream.ReadExactly(header);
        hash.AppendData(header);
        long version = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (!header[..4].SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != Format || version < 0
            || BinaryPrimitives.ReadInt64LittleEndian(header[16..]) != weights.Length || !header[24..].SequenceEqual(lineage))
            return null;
        for (int start = 0; start < weights.Length; start += Chunk)
        {
            var part = MemoryMarshal.AsBytes(weights.Slice(start, Math.Min(Chunk, weights.Length - start)));
            stream.ReadExactly(part);
            hash.AppendData(part);
        }
        Span<byte> checksum = stackalloc byte[32];
        stream.ReadExactly(checksum);
        return hash.GetHashAndReset().AsSpan().SequenceEqual(checksum) ? version : null;
    }

    /// <summary>Replaces the file with <paramref name="weights"/> at <paramref name="version"/> (atomic rename).</summary>
    public void Write(ReadOnlySpan<float> weights, long version)
    {
        Directory.CreateDirectory(directory);
        string temp = Path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            Span<byte> header = stackalloc byte[HeaderBytes];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Format);
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], version);
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], weights.Length);
            lineage.CopyTo(header[24..]);
            stream.Write(header);
            hash.AppendData(header);
            for (int start = 0; start < weights.Length; start += Chunk)
            {
                var part = MemoryMarshal.AsBytes(weights.Slice(start, Math.Min(Chunk, weights.Length - start)));
                stream.Write(part);
                hash.AppendData(part);
            }
            stream.Write(hash.GetHashAndReset());
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
    }
}
