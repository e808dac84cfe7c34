using System.Runtime.InteropServices;
using System.Text.Json;

namespace Federated.Core.IO;

/// <summary>One float32 tensor to write: HF/PEFT name, shape and row-major data.</summary>
public readonly record struct TensorToWrite(string Name, int[] Shape, ReadOnlyMemory<float> Data);

/// <summary>
/// Writes float32 safetensors files as the safetensors crate lays them out: 8-byte little-endian header length,
/// compact JSON header with <c>__metadata__</c> first and tensors sorted by name, padded with spaces to a multiple
/// of 8, then the tensors contiguous and row-major in the same order.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes the tensors to <paramref name="path"/> (overwriting it).</summary>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, tensors, metadata);
    }

    /// <summary>Writes the tensors to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in sorted)
        {
            long count = t.Shape.Aggregate(1L, (a, d) => a * d);
            if (count != t.Data.Length)
                throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} elements but shape [{string.Join(", ", t.Shape)}].", nameof(tensors));
            if (!seen.Add(t.Name)) throw new ArgumentException($"Tensor '{t.Name}' appears twice.", nameof(tensors));
        }

        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var kv in metadata ?? new Dictionary<string, string> { ["format"] = "pt" })
                w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            long offset = 0;
            foreach (var t in sorted)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += (long)t.Data.Length * sizeof(float);
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int headerLength = (int)json.Length;
        int padded = (headerLength + 7) / 8 * 8;
        Span<byte> lengthBytes = stackalloc byte[8];
        BitConverter.TryWriteBytes(lengthBytes, (ulong)padded);
        stream.Write(lengthBytes);
        stream.Write(json.GetBuffer(), 0, headerLength);
        for (int i = headerLength; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var t in sorted) stream.Write(MemoryMarshal.AsBytes(t.Data.Span));
    }
}
