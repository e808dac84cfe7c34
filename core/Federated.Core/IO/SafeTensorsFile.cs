using System.IO.MemoryMappedFiles;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Federated.Core.IO;

/// <summary>Element types of the safetensors format that the engine reads.</summary>
public enum SafeTensorsDType { F32, F16, BF16, I64, F64, I32, Unknown }

/// <summary>One tensor entry of a safetensors header: dtype, shape and byte range inside the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, string DTypeName, int[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar of shape []).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// A memory-mapped safetensors file: 8-byte little-endian header length N, N bytes of JSON header
/// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the row-major data section.
/// Every header entry is validated on open (offsets inside the file, byte length = elements × dtype size), so a
/// truncated or corrupt file fails with an <see cref="InvalidDataException"/> naming the file and tensor.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;
    private bool _disposed;

    /// <summary>The path the file was opened from (used in every error message).</summary>
    public string Path { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    private SafeTensorsFile(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        long length = new FileInfo(path).Length;
        if (length < 8) throw new InvalidDataException($"Safetensors file '{path}' is truncated: {length} bytes, the 8-byte header length is missing.");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        try
        {
            ulong headerLength = BitConverter.ToUInt64(new ReadOnlySpan<byte>(_base, 8));
            if (headerLength > (ulong)(length - 8))
                throw new InvalidDataException($"Safetensors file '{path}' has a header length of {headerLength} bytes, beyond the file's {length} bytes (truncated or not a safetensors file).");
            _dataStart = 8 + (long)headerLength;
            long dataLength = length - _dataStart;
            (_tensors, Tensors, Metadata) = ParseHeader(new ReadOnlySpan<byte>(_base + 8, (int)headerLength), dataLength, path);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or its header is malformed.</exception>
    public static SafeTensorsFile Open(string path) => new(path);

    /// <summary>Whether the file holds a tensor of this name.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The header entry of a tensor; throws naming the file when missing.</summary>
    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info
            : throw new InvalidDataException($"Tensor '{name}' is missing from safetensors file '{Path}'.");

    /// <summary>
    /// Reads a floating-point tensor into <paramref name="destination"/> as float32 (F16/BF16 upcast exactly, F64 rounded).
    /// With <paramref name="expectedShape"/> the stored shape must match exactly.
    /// </summary>
    public void ReadFloat32(string name, Span<float> destination, ReadOnlySpan<int> expectedShape = default)
    {
        var info = Info(name);
        if (!expectedShape.IsEmpty && !expectedShape.SequenceEqual(info.Shape))
            throw new InvalidDataException($"Tensor '{name}' in '{Path}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expectedShape.ToArray())}].");
        long count = info.ElementCount;
        if (destination.Length != count)
            throw new ArgumentException($"Destination for tensor '{name}' has {destination.Length} elements, the tensor has {count}.", nameof(destination));
        byte* src = _base + _dataStart + info.Begin;
        switch (info.DType)
        {
            case SafeTensorsDType.F32:
                new ReadOnlySpan<float>(src, (int)count).CopyTo(destination);
                break;
            case SafeTensorsDType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src, (int)count), destination);
                break;
            case SafeTensorsDType.BF16:
                var bits = new ReadOnlySpan<ushort>(src, (int)count);
                var dst = MemoryMarshal.Cast<float, uint>(destination);
                for (int i = 0; i < bits.Length; i++) dst[i] = (uint)bits[i] << 16;
                break;
            case SafeTensorsDType.F64:
                var d = new ReadOnlySpan<double>(src, (int)count);
                for (int i = 0; i < d.Length; i++) destination[i] = (float)d[i];
                break;
            default:
                throw new InvalidDataException($"Tensor '{name}' in '{Path}' has dtype {info.DTypeName}; expected a floating-point dtype (F32, F16, BF16, F64).");
        }
    }

    /// <summary>Reads a floating-point tensor into a new float32 array.</summary>
    public float[] ReadFloat32(string name)
    {
        var result = new float[Info(name).ElementCount];
        ReadFloat32(name, result);
        return result;
    }

    /// <summary>Reads an integer tensor (I64 or I32) into a new long array.</summary>
    public long[] ReadInt64(string name)
    {
        var info = Info(name);
        byte* src = _base + _dataStart + info.Begin;
        int count = (int)info.ElementCount;
        return info.DType switch
        {
            SafeTensorsDType.I64 => new ReadOnlySpan<long>(src, count).ToArray(),
            SafeTensorsDType.I32 => Array.ConvertAll(new ReadOnlySpan<int>(src, count).ToArray(), x => (long)x),
            _ => throw new InvalidDataException($"Tensor '{name}' in '{Path}' has dtype {info.DTypeName}; expected I64 or I32."),
        };
    }

    /// <summary>Reads an integer tensor as int32 token ids.</summary>
    public int[] ReadInt32(string name) => Array.ConvertAll(ReadInt64(name), x => checked((int)x));

    private static (Dictionary<string, SafeTensorInfo>, List<SafeTensorInfo>, Dictionary<string, string>) ParseHeader(
        ReadOnlySpan<byte> header, long dataLength, string path)
    {
        var byName = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var list = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header.ToArray()); }
        catch (JsonException e) { throw new InvalidDataException($"Safetensors file '{path}' has a malformed JSON header: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Safetensors file '{path}' has a header that is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in prop.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                var info = ParseEntry(prop, path);
                long size = DTypeSize(info.DType);
                if (info.Begin < 0 || info.End < info.Begin || info.End > dataLength)
                    throw new InvalidDataException($"Tensor '{info.Name}' in '{path}' has data_offsets [{info.Begin}, {info.End}] outside the {dataLength}-byte data section (truncated file?).");
                if (size > 0 && info.End - info.Begin != info.ElementCount * size)
                    throw new InvalidDataException($"Tensor '{info.Name}' in '{path}' spans {info.End - info.Begin} bytes but shape [{string.Join(", ", info.Shape)}] of {info.DTypeName} needs {info.ElementCount * size}.");
                if (info.ElementCount > int.MaxValue)
                    throw new InvalidDataException($"Tensor '{info.Name}' in '{path}' has {info.ElementCount} elements, more than this engine supports in one tensor.");
                byName[info.Name] = info;
                list.Add(info);
            }
        }
        return (byName, list, metadata);
    }

    private static SafeTensorInfo ParseEntry(JsonProperty prop, string path)
    {
        try
        {
            var e = prop.Value;
            string dtypeName = e.GetProperty("dtype").GetString() ?? "";
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"Tensor '{prop.Name}' in '{path}' has a negative dimension.");
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (offsets.Length != 2) throw new InvalidDataException($"Tensor '{prop.Name}' in '{path}' needs two data_offsets.");
            return new SafeTensorInfo(prop.Name, ParseDType(dtypeName), dtypeName, shape, offsets[0], offsets[1]);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Tensor '{prop.Name}' in '{path}' has a malformed header entry ({ex.Message}).", ex);
        }
    }

    internal static SafeTensorsDType ParseDType(string name) => name switch
    {
        "F32" => SafeTensorsDType.F32,
        "F16" => SafeTensorsDType.F16,
        "BF16" => SafeTensorsDType.BF16,
        "I64" => SafeTensorsDType.I64,
        "F64" => SafeTensorsDType.F64,
        "I32" => SafeTensorsDType.I32,
        _ => SafeTensorsDType.Unknown,
    };

    internal static long DTypeSize(SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I64 or SafeTensorsDType.F64 => 8,
        _ => 0,
    };

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
