using System.Security.Cryptography;
using Federated.Server.Checkpoints;
using Federated.Server.Domain;

namespace Federated.Server.Host;

/// <summary>
/// The latest full checkpoint, built once per model version by the configured <see cref="IModelCheckpointSource"/>
/// and kept with its SHA-256 (one model-sized byte array), so many clients downloading (and resuming) the same version
/// cost one build. Builds are serialised.
/// </summary>
internal sealed class FullCheckpointCache(IModelCheckpointSource source)
{
    private readonly Lock _gate = new();
    private (long Version, byte[] Bytes, byte[] Sha256)? _latest;

    /// <summary>The checkpoint at <c>fromBase.ToVersion</c>.</summary>
    public (long Version, byte[] Bytes, byte[] Sha256) Get(ModelDelta fromBase)
    {
        lock (_gate)
        {
            if (_latest is { } cached && cached.Version == fromBase.ToVersion) return cached;
            byte[] bytes = source.Build(fromBase);
            _latest = (fromBase.ToVersion, bytes, SHA256.HashData(bytes));
            return _latest.Value;
        }
    }
}

/// <summary>The cache when a checkpoint source is configured, else null (a DI singleton either way).</summary>
internal sealed record FullCheckpointCacheHolder(FullCheckpointCache? Cache);
