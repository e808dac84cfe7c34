using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Federated.Cli;

/// <summary>
/// The base-model fingerprint of docs/protocol.md §Fingerprint, computed from a Hugging Face model directory:
/// config_sha256 = SHA-256(config.json bytes); weights_sha256 = SHA-256 over every tensor of the model's safetensors files in
/// ascending ordinal name order of UTF-8(name) ‖ 0x00 ‖ UTF-8(dtype) ‖ 0x00 ‖ u32 LE rank ‖ rank × u64 LE dims ‖ raw
/// data; sha256 = SHA-256(config_sha256 ‖ weights_sha256). Time: one sequential read of the weights (~1 GB/s).
/// </summary>
internal static class ModelFingerprint
{
    public sealed record Result(byte[] Sha256, byte[] ConfigSha256, byte[] WeightsSha256, string Name, ulong ParameterCount);

    public static Result Compute(string modelDirectory)
    {
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"The model directory {modelDirectory} does not exist.");
        string config = Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"The model directory {modelDirectory} has no config.json.", config);
        byte[] configSha = SHA256.HashData(File.ReadAllBytes(config));

        var tensors = new List<(string Name, string Dtype, ulong[] Shape, string File, long Start, long End)>();
        var files = WeightFiles(modelDirectory);
        foreach (var file in files) tensors.AddRange(ReadHeader(file));
        tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ulong parameters = 0;
        var buffer = new byte[1 << 20];
        Span<byte> scratch = stackalloc byte[8];
        foreach (var t in tensors)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(t.Name));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(t.Dtype));
            hash.AppendData([0]);
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)t.Shape.Length);
            hash.AppendData(scratch[..4]);
            ulong count = 1;
            foreach (ulong d in t.Shape)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(scratch, d);
                hash.AppendData(scratch);
                count *= d;
            }
            parameters += count;
            using var stream = File.OpenRead(t.File);
            stream.Position = t.Start;
            long left = t.End - t.Start;
            while (left > 0)
            {
                int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) throw new InvalidDataException($"{t.File} ends inside tensor {t.Name}.");
                hash.AppendData(buffer, 0, n);
                left -= n;
            }
        }
        byte[] weightsSha = hash.GetHashAndReset();
        byte[] sha = SHA256.HashData([.. configSha, .. weightsSha]);
        return new Result(sha, configSha, weightsSha, Path.GetFileName(Path.GetFullPath(modelDirectory).TrimEnd('/')), parameters);
    }

    /// <summary>The base weights: the shards named by model.safetensors.index.json, else model.safetensors (other
    /// *.safetensors files, such as adapters or test references, are not part of the base model).</summary>
    private static string[] WeightFiles(string modelDirectory)
    {
        string index = Path.Combine(modelDirectory, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!json.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{index} has no weight_map object.");
            return map.EnumerateObject().Select(p => Path.Combine(modelDirectory, p.Value.GetString() ?? ""))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        }
        string single = Path.Combine(modelDirectory, "model.safetensors");
        if (File.Exists(single)) return [single];
        throw new FileNotFoundException($"The model directory {modelDirectory} has neither model.safetensors nor model.safetensors.index.json.", single);
    }

    private static IEnumerable<(string, string, ulong[], string, long, long)> ReadHeader(string file)
    {
        using var stream = File.OpenRead(file);
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > 100_000_000 || (long)headerLength + 8 > stream.Length)
            throw new InvalidDataException($"{file} has a safetensors header length of {headerLength} bytes, which does not fit the file.");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var list = new List<(string, string, ulong[], string, long, long)>();
        using var json = JsonDocument.Parse(header);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__") continue;
            var e = property.Value;
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetUInt64()).ToArray();
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] > offsets[1] || dataStart + offsets[1] > stream.Length)
                throw new InvalidDataException($"{file}: tensor {property.Name} has data_offsets outside the file.");
            list.Add((property.Name, e.GetProperty("dtype").GetString() ?? "", shape, file, dataStart + offsets[0], dataStart + offsets[1]));
        }
        return list;
    }
}
