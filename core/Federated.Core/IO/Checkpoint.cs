using System.Text.Json;

namespace Federated.Core.IO;

/// <summary>
/// The weights of a Hugging Face checkpoint folder: either one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {name: file}}</c>). Shards are opened
/// (memory-mapped) on first use.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    private readonly string _directory;
    private readonly Dictionary<string, string> _weightMap = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SafeTensorsFile> _open = new(StringComparer.Ordinal);

    private Checkpoint(string directory) => _directory = directory;

    /// <summary>Opens a checkpoint folder, or a single .safetensors file.</summary>
    public static Checkpoint Open(string path)
    {
        if (File.Exists(path) && path.EndsWith(".safetensors", StringComparison.Ordinal))
        {
            var single = new Checkpoint(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            single.AddFile(System.IO.Path.GetFileName(path));
            return single;
        }
        if (!Directory.Exists(path)) throw new FileNotFoundException($"Checkpoint folder '{path}' does not exist.", path);
        var ckpt = new Checkpoint(path);
        string index = System.IO.Path.Combine(path, "model.safetensors.index.json");
        string model = System.IO.Path.Combine(path, "model.safetensors");
        if (File.Exists(index)) ckpt.ReadIndex(index);
        else if (File.Exists(model)) ckpt.AddFile("model.safetensors");
        else throw new FileNotFoundException($"Checkpoint folder '{path}' has neither model.safetensors nor model.safetensors.index.json.", model);
        return ckpt;
    }

    /// <summary>All tensor names of the checkpoint.</summary>
    public IEnumerable<string> Names => _weightMap.Keys;

    /// <summary>Whether the checkpoint holds this tensor.</summary>
    public bool Contains(string name) => _weightMap.ContainsKey(name);

    /// <summary>The header entry of a tensor.</summary>
    public SafeTensorInfo Info(string name) => FileOf(name).Info(name);

    /// <summary>Reads a tensor as float32, checking its shape.</summary>
    public void ReadFloat32(string name, Span<float> destination, ReadOnlySpan<int> expectedShape) =>
        FileOf(name).ReadFloat32(name, destination, expectedShape);

    private SafeTensorsFile FileOf(string name)
    {
        if (!_weightMap.TryGetValue(name, out var file))
            throw new InvalidDataException($"Tensor '{name}' is missing from checkpoint '{_directory}'.");
        if (!_open.TryGetValue(file, out var st))
        {
            st = SafeTensorsFile.Open(System.IO.Path.Combine(_directory, file));
            _open[file] = st;
            if (!st.Contains(name))
                throw new InvalidDataException($"Tensor '{name}' is listed for '{file}' in the index of '{_directory}' but missing from that file.");
        }
        return st;
    }

    private void AddFile(string file)
    {
        var st = SafeTensorsFile.Open(System.IO.Path.Combine(_directory, file));
        _open[file] = st;
        foreach (var t in st.Tensors) _weightMap[t.Name] = file;
    }

    private void ReadIndex(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            foreach (var p in doc.RootElement.GetProperty("weight_map").EnumerateObject())
                _weightMap[p.Name] = p.Value.GetString() ?? throw new InvalidDataException($"'{indexPath}': weight_map entry '{p.Name}' is not a file name.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"Index file '{indexPath}' is malformed: {e.Message}", e);
        }
    }

    /// <summary>Unmaps every opened file.</summary>
    public void Dispose()
    {
        foreach (var f in _open.Values) f.Dispose();
        _open.Clear();
    }
}
