using System.Text.Json;
using Federated.Compression.Dense;
using Federated.Data;
using Federated.Privacy.Capture;
using Federated.Server.Domain;

namespace Federated.Simulation.Capture;

/// <summary>What a simulated client knows about its own round and the server never sees: kept in the capture only as
/// ground truth for scoring probes.</summary>
/// <param name="LocalSteps">Local steps run.</param>
/// <param name="SamplingRate">q per step (B / shard size).</param>
/// <param name="ExampleIndices">Global training-set indices of the examples trained on, in step order.</param>
internal sealed record ClientSecret(int LocalSteps, double SamplingRate, int[] ExampleIndices);

/// <summary>
/// Writes the capture folder (<see cref="CaptureFormat"/>) of a simulation, hooked into <see cref="Federation.SimulatedFederation{TParameters}"/>:
/// <see cref="Update"/> at every accepted push (the exact bytes the strategy validated), <see cref="Commit"/> when a
/// round's version is applied. Under secure aggregation the per-client payloads are never written: at the commit one
/// update line holds the method's sum view of the round (ComPEFT: the sample-weighted mean Δ̂, dense; FedKSeed: Σᵢ aᵢ·Lᵢ
/// as seed_scalars), which is all a server behind secure aggregation learns.
/// </summary>
internal sealed class CaptureWriter : IDisposable
{
    private readonly string _directory;
    private readonly bool _secureAggregation;
    private readonly Func<IReadOnlyList<AcceptedUpdate>, byte[], byte[]> _sumView;
    private readonly Func<byte[], byte[]> _versionView;
    private readonly StreamWriter _updates;
    private readonly StreamWriter _versions;
    private readonly List<(string ClientId, ClientSecret Secret)> _pending = [];

    /// <param name="directory">The captures folder (created; existing capture files are replaced).</param>
    /// <param name="manifest">run.json's content.</param>
    /// <param name="canaries">Records planted in the canary client's shard (written to canaries.jsonl), or empty.</param>
    /// <param name="sumView">Secure aggregation's server view of a round from its accepted updates and version payload.</param>
    /// <param name="versionView">A version's stored payload → the change from the previous version as captured.</param>
    public CaptureWriter(string directory, CaptureManifest manifest, IReadOnlyList<InstructionExample> canaries,
        Func<IReadOnlyList<AcceptedUpdate>, byte[], byte[]> sumView, Func<byte[], byte[]> versionView)
    {
        _directory = directory;
        _secureAggregation = manifest.SecureAggregation;
        _sumView = sumView;
        _versionView = versionView;
        Directory.CreateDirectory(Path.Combine(directory, CaptureFormat.UpdatesFolder));
        Directory.CreateDirectory(Path.Combine(directory, CaptureFormat.VersionsFolder));
        if (canaries.Count > 0)
        {
            InstructionDatasetWriter.Write(Path.Combine(directory, CaptureFormat.CanariesFile), canaries);
            manifest = manifest with { Canaries = CaptureFormat.CanariesFile };
        }
        File.WriteAllText(Path.Combine(directory, CaptureFormat.ManifestFile), JsonSerializer.Serialize(manifest, CaptureFormat.Json));
        _updates = new StreamWriter(Path.Combine(directory, CaptureFormat.UpdatesFile));
        _versions = new StreamWriter(Path.Combine(directory, CaptureFormat.VersionsFile));
    }

    /// <summary>An accepted update: written at once, or held for the round's sum under secure aggregation.</summary>
    public void Update(long round, long baseVersion, string clientId, ulong sampleCount, byte[] payload, ClientSecret secret)
    {
        if (_secureAggregation)
        {
            _pending.Add((clientId, secret));
            return;
        }
        string name = $"{CaptureFormat.UpdatesFolder}/r{round:D4}-{clientId}.bin";
        File.WriteAllBytes(Path.Combine(_directory, name), payload);
        Write(_updates, new CapturedUpdate(round, clientId, baseVersion, sampleCount, name, KindOf(payload),
            secret.LocalSteps, secret.SamplingRate, secret.ExampleIndices));
    }

    /// <summary>The round's version (and, under secure aggregation, its one summed update line).</summary>
    public void Commit(long round, long baseVersion, IReadOnlyList<AcceptedUpdate> accepted, byte[] versionPayload)
    {
        if (_secureAggregation)
        {
            byte[] sum = _sumView(accepted, versionPayload);
            string name = $"{CaptureFormat.UpdatesFolder}/r{round:D4}-{CaptureFormat.AggregateClientId}.bin";
            File.WriteAllBytes(Path.Combine(_directory, name), sum);
            var ordered = _pending.OrderBy(p => p.ClientId, StringComparer.Ordinal).ToArray();
            ulong total = 0;
            foreach (var a in accepted) total += a.SampleCount;
            Write(_updates, new CapturedUpdate(round, CaptureFormat.AggregateClientId, baseVersion, total, name, KindOf(sum),
                ordered.Sum(p => p.Secret.LocalSteps), ordered.Length == 0 ? 0 : ordered.Average(p => p.Secret.SamplingRate),
                [.. ordered.SelectMany(p => p.Secret.ExampleIndices)], [.. ordered.Select(p => p.ClientId)]));
            _pending.Clear();
        }
        byte[] version = _versionView(versionPayload);
        string versionName = $"{CaptureFormat.VersionsFolder}/v{baseVersion + 1:D4}.bin";
        File.WriteAllBytes(Path.Combine(_directory, versionName), version);
        Write(_versions, new CapturedVersion(baseVersion + 1, round, versionName, KindOf(version)));
    }

    public void Dispose()
    {
        _updates.Dispose();
        _versions.Dispose();
    }

    private static string KindOf(ReadOnlySpan<byte> payload) =>
        DenseUpdateCodec.HasMagic(payload) ? CaptureFormat.DenseKind
        : payload.Length >= 4 && payload[..4].SequenceEqual("TRNY"u8) ? CaptureFormat.TernaryKind
        : CaptureFormat.SeedScalarsKind;

    private static void Write<T>(StreamWriter writer, T record)
    {
        writer.WriteLine(JsonSerializer.Serialize(record, CaptureFormat.Json));
        writer.Flush();
    }
}
