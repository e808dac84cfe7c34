using System.Text;

namespace Federated.Core.Generation;

/// <summary>FNV-1a, 64-bit (Fowler, Noll, Vo): h = 14695981039346656037; for each byte h = (h XOR b) · 1099511628211.
/// Owned so that hashes of names (the data split of a word, a client id's selection key) are the same everywhere
/// (string.GetHashCode is randomised per process).</summary>
public static class Fnv1a
{
    public static ulong Hash64(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var b in bytes) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    /// <summary>The hash of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static ulong Hash64(string text) => Hash64(Encoding.UTF8.GetBytes(text));
}
