using Federated.Core;

namespace Federated.Server.Coordination;

/// <summary>
/// Round and membership settings of a <see cref="FederationCoordinator"/>. Defaults in the property docs; durations
/// are wall-clock time measured by the injected TimeProvider. Call <see cref="Validate"/> before use.
/// </summary>
public sealed class FederationCoordinatorOptions
{
    /// <summary>R: rounds to aggregate before the federation reports FINISHED. Default 100.</summary>
    public int Rounds { get; set; } = 100;

    /// <summary>M: clients selected per round among the connected ones (over-selection: M ≥ Q). Default 10.</summary>
    public int ClientsPerRound { get; set; } = 10;

    /// <summary>Q: quorum. A round opens only with ≥ Q connected clients and is aggregated as soon as Q updates are
    /// accepted (later ones are stale). Below Q at the deadline the round is abandoned and a new one opens. Default 2.</summary>
    public int MinClients { get; set; } = 2;

    /// <summary>N: a round opens only once at least this many clients are connected — a known population (e.g. a
    /// simulation's N clients, or a test's N processes): every round then draws its M clients from all of them, however
    /// the clients' start-up interleaves. 0 (default): Q connected clients suffice.</summary>
    public int ExpectedClients { get; set; }

    /// <summary>Time from opening a round to its deadline. Default 10 minutes.</summary>
    public TimeSpan RoundTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Once ≥ Q clients are connected, how long to wait for the rest of the enrolled clients before opening
    /// the round with those connected (M of them drawn by seed). Default 10 seconds.</summary>
    public TimeSpan SelectionWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A client counts as connected while its last GetTask/GetModel is at most this old. Default 60 seconds.</summary>
    public TimeSpan ClientLivenessWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>retry_after sent with WAIT (clients add jitter). Default 5 seconds.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Seeds client selection and each client's per-round seed: same seed, same clients ⇒ same choices. Default 0.</summary>
    public ulong SelectionSeed { get; set; }

    /// <summary>Enrollment tokens accepted by Enroll (secrets; only their SHA-256 is kept in memory). At least one.</summary>
    public IList<string> EnrollmentTokens { get; } = [];

    /// <summary>Display name of the federation. Default "federated".</summary>
    public string Name { get; set; } = "federated";

    /// <summary>Most entries in an update's metrics map. Default 64 (docs/protocol.md).</summary>
    public int MaxMetrics { get; set; } = 64;

    /// <summary>The largest aggregation weight one update gets: a reported sample_count above it counts as this much (the
    /// stored update keeps the capped weight). The weight is self-reported, so this bounds how far one client can outweigh
    /// the others in a round's weighted mean; set it near the largest honest shard. Default 1,000,000.</summary>
    public ulong MaxSampleWeight { get; set; } = DefaultMaxSampleWeight;

    /// <summary>The default of <see cref="MaxSampleWeight"/>.</summary>
    public const ulong DefaultMaxSampleWeight = 1_000_000;

    public void Validate()
    {
        TrainingLimits.Check(Rounds, 1, TrainingLimits.MaxRounds, "Rounds (--rounds)");
        TrainingLimits.Check(MinClients, 1, TrainingLimits.MaxClientsPerRound, "MinClients (--min-clients)");
        if (ClientsPerRound < MinClients)
            throw new ArgumentOutOfRangeException(nameof(ClientsPerRound), ClientsPerRound, $"ClientsPerRound must be at least MinClients ({MinClients}).");
        TrainingLimits.Check(ClientsPerRound, 1, TrainingLimits.MaxClientsPerRound, "ClientsPerRound (--clients-per-round)");
        if (ExpectedClients < 0) throw new ArgumentOutOfRangeException(nameof(ExpectedClients), ExpectedClients, "ExpectedClients must not be negative.");
        if (RoundTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RoundTimeout), RoundTimeout, "RoundTimeout must be positive.");
        if (SelectionWindow < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(SelectionWindow), SelectionWindow, "SelectionWindow must not be negative.");
        if (ClientLivenessWindow <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ClientLivenessWindow), ClientLivenessWindow, "ClientLivenessWindow must be positive.");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "PollInterval must be positive.");
        if (EnrollmentTokens.Count == 0 || EnrollmentTokens.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentOutOfRangeException(nameof(EnrollmentTokens), EnrollmentTokens.Count, "At least one non-empty enrollment token is needed.");
        if (MaxMetrics < 0) throw new ArgumentOutOfRangeException(nameof(MaxMetrics), MaxMetrics, "MaxMetrics must not be negative.");
        if (MaxSampleWeight is < 1 or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(MaxSampleWeight), MaxSampleWeight, $"MaxSampleWeight (serve --max-sample-weight) must be in [1, {int.MaxValue}].");
    }
}
