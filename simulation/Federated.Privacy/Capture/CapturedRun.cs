using System.Text.Json;
using Federated.Compression.Dense;
using Federated.Compression.Ternary;
using Federated.Core.Seeds;
using Federated.Data;
using Federated.Protocol.V1;
using Google.Protobuf;

namespace Federated.Privacy.Capture;

/// <summary>
/// A capture folder read back (<see cref="CaptureFormat"/>): the manifest, the accepted updates and the model versions,
/// with decoders to what probes take: a ComPEFT payload → the dense float32 Δ̂ the server would aggregate, a FedKSeed
/// payload → its (seed index, scalar) pairs. Reads only; payload bytes are loaded on demand.
/// </summary>
public sealed class CapturedRun
{
    private CapturedRun(string directory, CaptureManifest manifest, IReadOnlyList<CapturedUpdate> updates,
        IReadOnlyList<CapturedVersion> versions, IReadOnlyList<InstructionExample> canaries)
    {
        Directory = directory;
        Manifest = manifest;
        Updates = updates;
        Versions = versions;
        Canaries = canaries;
    }

    /// <summary>The capture folder.</summary>
    public string Directory { get; }

    public CaptureManifest Manifest { get; }

    /// <summary>updates.jsonl in file order (round, then client-id order).</summary>
    public IReadOnlyList<CapturedUpdate> Updates { get; }

    /// <summary>versions.jsonl, version 1, 2, … in order.</summary>
    public IReadOnlyList<CapturedVersion> Versions { get; }

    /// <summary>The planted canary records (empty when none).</summary>
    public IReadOnlyList<InstructionExample> Canaries { get; }

    /// <summary>Loads <paramref name="directory"/> (a captures folder, or a run folder holding captures/).</summary>
    /// <exception cref="FileNotFoundException">No run.json.</exception>
    /// <exception cref="InvalidDataException">A malformed file, naming it and the line.</exception>
    public static CapturedRun Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!File.Exists(Path.Combine(directory, CaptureFormat.ManifestFile)) && File.Exists(Path.Combine(directory, "captures", CaptureFormat.ManifestFile)))
            directory = Path.Combine(directory, "captures");
        string manifestPath = Path.Combine(directory, CaptureFormat.ManifestFile);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"No capture in '{directory}': {CaptureFormat.ManifestFile} is missing (run `federated simulate --capture`).", manifestPath);
        var manifest = ReadJson<CaptureManifest>(File.ReadAllText(manifestPath), manifestPath, 1);
        if (manifest.FormatVersion != CaptureFormat.Version)
            throw new InvalidDataException($"{manifestPath}: format_version {manifest.FormatVersion} is not supported (expected {CaptureFormat.Version}).");
        if (manifest.Method is not ("compeft" or "fedkseed"))
            throw new InvalidDataException($"{manifestPath}: method '{manifest.Method}' is unknown (expected compeft or fedkseed).");
        var updates = ReadLines<CapturedUpdate>(Path.Combine(directory, CaptureFormat.UpdatesFile));
        var versions = ReadLines<CapturedVersion>(Path.Combine(directory, CaptureFormat.VersionsFile));
        IReadOnlyList<InstructionExample> canaries = manifest.Canaries is { } c
            ? InstructionDataset.Load(Path.Combine(directory, c)).Records
            : [];
        return new CapturedRun(directory, manifest, updates, versions, canaries);
    }

    /// <summary>The bytes of an update's payload, exactly as the server validated them.</summary>
    public byte[] ReadPayload(CapturedUpdate update) => ReadFile(update.Payload);

    /// <summary>The bytes of a version's payload.</summary>
    public byte[] ReadPayload(CapturedVersion version) => ReadFile(version.Payload);

    /// <summary>ComPEFT: the dense Δ̂ of an update (ternary decoded to scale·sign at the kept positions; dense as is).</summary>
    public float[] DecodeDelta(CapturedUpdate update) => DecodeDelta(ReadPayload(update), update.Payload);

    /// <summary>ComPEFT: the merged Δ of a version (the change from version − 1).</summary>
    public float[] DecodeDelta(CapturedVersion version) => DecodeDelta(ReadPayload(version), version.Payload);

    /// <summary>FedKSeed: an update's (seed index, scalar) pairs in step order (under secure aggregation: seed, Σᵢ aᵢ·Lᵢ[s]).</summary>
    public SeedScalar[] DecodeSeedScalars(CapturedUpdate update) => DecodeSeedScalars(ReadPayload(update), update.Payload);

    /// <summary>FedKSeed: a version's ΔH as (seed index, ΔH) pairs.</summary>
    public SeedScalar[] DecodeSeedScalars(CapturedVersion version) => DecodeSeedScalars(ReadPayload(version), version.Payload);

    /// <summary>ComPEFT: the sum of the decoded versions 1..<paramref name="version"/>, i.e. global adapter(version) − initial adapter.</summary>
    public float[] GlobalDeltaAt(long version)
    {
        if (version < 0 || version > Versions.Count)
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Version must be in [0, {Versions.Count}].");
        float[]? sum = null;
        foreach (var v in Versions.Where(v => v.Version <= version))
        {
            var delta = DecodeDelta(v);
            if (sum is null) sum = delta;
            else System.Numerics.Tensors.TensorPrimitives.Add(sum, delta, sum);
        }
        return sum ?? [];
    }

    /// <summary>Decodes a ComPEFT payload (F32U dense or TRNY ternary) to float32.</summary>
    public static float[] DecodeDelta(ReadOnlySpan<byte> payload, string name)
    {
        try
        {
            if (DenseUpdateCodec.HasMagic(payload))
            {
                return DenseUpdateCodec.Decode(payload);
            }
            return TernaryCodec.Decode(payload);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{name}: not a ComPEFT payload ({ex.Message})", ex);
        }
    }

    /// <summary>Decodes a serialized SeedScalars message to (seed index, scalar) pairs.</summary>
    public static SeedScalar[] DecodeSeedScalars(ReadOnlySpan<byte> payload, string name)
    {
        try
        {
            return SeedScalars.Decode(payload);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{name}: {ex.Message}", ex);
        }
    }

    private byte[] ReadFile(string relative)
    {
        string path = Path.Combine(Directory, relative);
        if (!File.Exists(path)) throw new FileNotFoundException($"The capture's payload file '{relative}' is missing in '{Directory}'.", path);
        return File.ReadAllBytes(path);
    }

    private static List<T> ReadLines<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The capture file '{path}' is missing.", path);
        var items = new List<T>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            items.Add(ReadJson<T>(line, path, number));
        }
        return items;
    }

    private static T ReadJson<T>(string text, string path, int line)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, CaptureFormat.Json)
                ?? throw new InvalidDataException($"{path}:{line}: expected a JSON object, found null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}:{line}: not a valid capture record ({ex.Message}).", ex);
        }
    }
}
