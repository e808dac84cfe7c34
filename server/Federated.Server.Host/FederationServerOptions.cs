using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Strategies;

namespace Federated.Server.Host;

/// <summary>
/// Everything <c>AddFederationServer</c> needs. Units and defaults are in each property's doc; <see cref="Validate"/>
/// throws <see cref="ArgumentOutOfRangeException"/> naming the first bad setting.
/// </summary>
public sealed class FederationServerOptions
{
    /// <summary>Training method of the federation. Default FedKSeed.</summary>
    public TrainingMethodKind Method { get; set; } = TrainingMethodKind.FedKSeed;

    /// <summary>Directory of the durable state (federation.db, SQLite WAL). Null keeps state in memory (tests only).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Where the federation state lives, as <see cref="Federated.Server.Storage.FederationStores.Open"/> reads it
    /// (<c>memory</c> or <c>sqlite:PATH</c>). Null: <c>sqlite:DataDirectory/federation.db</c>, or <c>memory</c> without
    /// <see cref="DataDirectory"/> (tests only).</summary>
    public string? Store { get; set; }

    /// <summary>Rounds, quorum, deadlines, enrollment tokens.</summary>
    public FederationCoordinatorOptions Coordinator { get; } = new();

    /// <summary>FedKSeed hyper-parameters (used when <see cref="Method"/> is FedKSeed).</summary>
    public FedKSeedStrategyOptions FedKSeed { get; } = new();

    /// <summary>ComPEFT hyper-parameters (used when <see cref="Method"/> is ComPeft): <see cref="ComPeftStrategyOptions.UpdateElementCount"/>
    /// (the adapter's trainable size, from the base model and LoRA settings; `federated serve` computes it) is required.</summary>
    public ComPeftStrategyOptions ComPeft { get; } = new();

    /// <summary>Largest accepted ClientUpdate message, bytes; gRPC's receive limit is set to it, so a larger message is
    /// RESOURCE_EXHAUSTED before it is parsed. Default 16 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 16 << 20;

    /// <summary>Data bytes per ModelChunk of a byte-payload download. Default 1 MiB.</summary>
    public int ModelChunkBytes { get; set; } = 1 << 20;

    /// <summary>Fingerprint of the federation's base model; when set, requests must match it (docs/protocol.md).
    /// Null: not enforced (tests, or a server run without the model files).</summary>
    public BaseModelIdentity? BaseModel { get; set; }

    /// <summary>How often deadlines and round opening are checked in the background. Default 1 second.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The strategy to use instead of the one <see cref="Method"/> names. Null: built from <see cref="Method"/>
    /// (<see cref="FedKSeedStrategy"/> or <see cref="ComPeftStrategy"/>).</summary>
    public Func<IServiceProvider, IFederationStrategy>? StrategyFactory { get; set; }

    /// <summary>Enroll and PushUpdate calls one client may make per <see cref="RateLimitWindow"/> (fixed window, ASP.NET
    /// Core rate limiting, keyed by the bearer token, or by the remote address for Enroll); beyond it a call is
    /// RESOURCE_EXHAUSTED before its body is read. 0 = no limit (default). Other RPCs are never limited.</summary>
    public int RateLimitPermits { get; set; }

    /// <summary>Window of <see cref="RateLimitPermits"/>. Default 1 minute.</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Builds GetModel's FULL_CHECKPOINT payload (the merged global model as safetensors), e.g.
    /// <see cref="Federated.Server.Checkpoints.MergedModelCheckpointSource"/>. Null: full_checkpoint requests are
    /// FAILED_PRECONDITION (distribute the model out of band).</summary>
    public Func<IServiceProvider, Federated.Server.Checkpoints.IModelCheckpointSource>? CheckpointSource { get; set; }

    public void Validate()
    {
        if (!Enum.IsDefined(Method)) throw new ArgumentOutOfRangeException(nameof(Method), Method, "Method must be FedKSeed or ComPeft.");
        if (MaxMessageBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, "MaxMessageBytes must be at least 1024.");
        if (ModelChunkBytes < 1024 || ModelChunkBytes > MaxMessageBytes)
            throw new ArgumentOutOfRangeException(nameof(ModelChunkBytes), ModelChunkBytes, "ModelChunkBytes must be between 1024 and MaxMessageBytes.");
        if (RateLimitPermits < 0) throw new ArgumentOutOfRangeException(nameof(RateLimitPermits), RateLimitPermits, "RateLimitPermits must be ≥ 0 (0 = no limit).");
        if (RateLimitWindow <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RateLimitWindow), RateLimitWindow, "RateLimitWindow must be positive.");
        if (TickInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TickInterval), TickInterval, "TickInterval must be positive.");
        Coordinator.Validate();
        if (StrategyFactory is not null) return;
        if (Method == TrainingMethodKind.FedKSeed) FedKSeed.Validate();
        else ComPeft.Validate();
    }
}

/// <summary>The base-model fingerprint (docs/protocol.md §Fingerprint). Equality is on <see cref="Sha256"/> only.</summary>
public sealed record BaseModelIdentity(byte[] Sha256, byte[] ConfigSha256, byte[] WeightsSha256, string Name, ulong ParameterCount);
