namespace Federated.Server.Domain;

/// <summary>The training method of a federation (mirrors the wire enum TrainingMethod; converted at the Host edge).</summary>
public enum TrainingMethodKind
{
    FedKSeed = 1,
    ComPeft = 2,
}

/// <summary>
/// Phase of a round: Open (clients selected, tasks handed out, nothing accepted yet) → Collecting (≥ 1 update accepted)
/// → Aggregating (quorum reached; merging, inside one store transaction) → Closed (new model version committed, or
/// abandoned when the deadline passed below quorum).
/// </summary>
public enum RoundPhase
{
    Open = 1,
    Collecting = 2,
    Aggregating = 3,
    Closed = 4,
}

/// <summary>How a closed round ended.</summary>
public enum RoundOutcome
{
    None = 0,
    Aggregated = 1,
    /// <summary>The deadline passed with fewer accepted updates than the quorum, or declines left too few selected
    /// clients to reach it; the model did not change.</summary>
    Abandoned = 2,
}

/// <summary>What a client says about itself at enrollment (informative except <see cref="SupportedMethods"/>).</summary>
public sealed record ClientDescription(string Name, string Platform, string SoftwareVersion, ulong SampleCount,
    IReadOnlyList<TrainingMethodKind> SupportedMethods);

/// <summary>Result of Enroll: a stable client id and its bearer credential (secret; only its hash is stored).</summary>
public sealed record EnrollmentResult(string ClientId, string BearerToken);

/// <summary>One stored enrolled client. <see cref="CredentialHash"/> = SHA-256(UTF-8(bearer token)).</summary>
public sealed record ClientRecord(string ClientId, string Name, byte[] EnrollmentTokenHash, byte[] CredentialHash,
    DateTimeOffset EnrolledAt, bool Revoked);

/// <summary>One stored round. <see cref="SelectedClients"/> is sorted ordinally.</summary>
public sealed record RoundRecord(long RoundId, RoundPhase Phase, RoundOutcome Outcome, long BaseVersion,
    DateTimeOffset OpenedAt, DateTimeOffset Deadline, DateTimeOffset? ClosedAt, IReadOnlyList<string> SelectedClients);

/// <summary>An update as the Host hands it to the coordinator. <see cref="Payload"/> is the method's canonical wire
/// bytes (FedKSeed: the serialized SeedScalars message; ComPEFT: the ternary codec bytes); the strategy owns its codec.</summary>
public sealed record UpdateSubmission(string ClientId, long RoundId, long ModelVersion, ulong SampleCount,
    ReadOnlyMemory<byte> Payload, IReadOnlyDictionary<string, double> Metrics);

/// <summary>An accepted, durably stored update. <see cref="Sha256"/> is over <see cref="Payload"/>.</summary>
public sealed record AcceptedUpdate(string ClientId, long RoundId, long ModelVersion, ulong SampleCount, byte[] Payload,
    byte[] Sha256, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset AcceptedAt);

/// <summary>The receipt of PushUpdate. <see cref="Duplicate"/> is true when the same payload had already been accepted.</summary>
public sealed record UpdateReceiptInfo(long RoundId, bool Duplicate, byte[] UpdateSha256, DateTimeOffset AcceptedAt);

/// <summary>A selected client that did not deliver an accepted update before the round closed.</summary>
public sealed record RoundFailure(string ClientId, string Reason);

/// <summary>A global model version: the change <see cref="Payload"/> (method-specific, e.g. a sparse ΔH) produced by
/// aggregating round <see cref="RoundId"/>.</summary>
public sealed record ModelVersionRecord(long Version, long RoundId, byte[] Payload, DateTimeOffset CreatedAt);

/// <summary>Whether GetTask assigned work.</summary>
public enum TaskAvailabilityKind
{
    Assigned = 1,
    Wait = 2,
    Finished = 3,
}

/// <summary>GetTask's answer. With <see cref="TaskAvailabilityKind.Assigned"/>: the round, the version to train from,
/// the method's hyper-parameters, the deadline and this client's per-round seed; with Wait: <see cref="RetryAfter"/>.</summary>
public sealed record TaskAssignment(TaskAvailabilityKind Availability, long RoundId, long ModelVersion,
    RoundParameters? Parameters, DateTimeOffset Deadline, ulong ClientRoundSeed, TimeSpan RetryAfter)
{
    public static TaskAssignment Wait(TimeSpan retryAfter) => new(TaskAvailabilityKind.Wait, 0, 0, null, default, 0, retryAfter);
    public static TaskAssignment Finished() => new(TaskAvailabilityKind.Finished, 0, 0, null, default, 0, TimeSpan.Zero);
}

/// <summary>Method hyper-parameters of a round (converted to the wire oneof at the Host edge).</summary>
public abstract record RoundParameters;

/// <summary>FedKSeed hyper-parameters (K, master seed, τ, ε, η, batch size; empty probabilities = uniform), the bound G
/// on every scalar |g| of an update (<see cref="Strategies.FedKSeedStrategyOptions.MaxAbsScalar"/>) and the regex of the
/// trained tensors (null = all).</summary>
public sealed record FedKSeedRoundParameters(int SeedCount, ulong SeedPoolMasterSeed, int LocalSteps, float Epsilon,
    float LearningRate, int BatchSize, IReadOnlyList<float> SeedProbabilities, float MaxAbsScalar, string? Trainable = null) : RoundParameters;

/// <summary>The kind of a model download (mirrors the wire enum ModelPayloadKind).</summary>
public enum ModelDeltaKind
{
    SeedDelta = 1,
    CompressedAdapter = 2,
}

/// <summary>What takes a client from <see cref="FromVersion"/> to <see cref="ToVersion"/>. For SeedDelta:
/// ascending unique <see cref="SeedIndices"/> and ΔH[s] = H_to[s] − H_from[s] in <see cref="ScalarDeltas"/>.
/// For byte payloads: <see cref="Payload"/>.</summary>
public sealed record ModelDelta(ModelDeltaKind Kind, long FromVersion, long ToVersion, uint[] SeedIndices,
    float[] ScalarDeltas, byte[] Payload);

/// <summary>Federation and round state for GetStatus.</summary>
public sealed record FederationStatusInfo(string FederationId, TrainingMethodKind Method, long Round, long ModelVersion,
    RoundPhase? Phase, bool Finished, bool WaitingForClients, int EnrolledClients, int UpdatesReceived,
    int UpdatesRequired, DateTimeOffset? RoundDeadline);
