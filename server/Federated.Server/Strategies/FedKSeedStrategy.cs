using Federated.Aggregation.FedKSeed;
using Federated.Core;
using Federated.Core.Seeds;
using Federated.Protocol.V1;
using Federated.Server.Domain;
using Federated.Server.Parameters;
using Google.Protobuf;

namespace Federated.Server.Strategies;

/// <summary>FedKSeed hyper-parameters the server hands out every round; defaults from <see cref="FedKSeedSettings"/>
/// (the one home of FedKSeed's defaults, shared with the simulator and every CLI verb).</summary>
public sealed class FedKSeedStrategyOptions
{
    private static readonly FedKSeedSettings Defaults = FedKSeedSettings.Default;

    /// <summary>K, number of candidate seeds (indices 0..K−1).</summary>
    public int SeedCount { get; set; } = Defaults.SeedCount;
    /// <summary>Derives the K candidate seeds (docs/seed-protocol.md); the run seed.</summary>
    public ulong SeedPoolMasterSeed { get; set; } = FederationSettings.Default.Seed;
    /// <summary>τ, zeroth-order steps per client per round; an update carries 1..τ scalars.</summary>
    public int LocalSteps { get; set; } = Defaults.LocalSteps;
    /// <summary>ε, perturbation scale of the two-point estimate (dimensionless).</summary>
    public float Epsilon { get; set; } = Defaults.Epsilon;
    /// <summary>η, learning rate of each scalar·z step.</summary>
    public float LearningRate { get; set; } = Defaults.LearningRate;
    /// <summary>Examples per step.</summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;
    /// <summary>FedKSeed-Pro: every task carries seed probabilities from the history of |g| (<see cref="FedKSeedPro"/>);
    /// costs K floats (4K bytes) more per task download. Default false (uniform seeds).</summary>
    public bool Pro { get; set; } = Defaults.Pro;
    /// <summary>Regex over parameter names of the trained tensors, sent in every task; null = all.</summary>
    public string? Trainable { get; set; } = Defaults.Trainable;

    /// <summary>Takes every hyper-parameter from <paramref name="settings"/> and the seed pool's master seed from
    /// <paramref name="runSeed"/>.</summary>
    public void Apply(FedKSeedSettings settings, ulong runSeed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SeedCount = settings.SeedCount;
        SeedPoolMasterSeed = runSeed;
        LocalSteps = settings.LocalSteps;
        Epsilon = settings.Epsilon;
        LearningRate = settings.LearningRate;
        BatchSize = settings.BatchSize;
        Pro = settings.Pro;
        Trainable = settings.Trainable;
    }

    /// <summary>G, the bound on every pushed scalar: |g| ≤ G, else INVALID_ARGUMENT (clients drop a step with |g| &gt; G, as
    /// they drop a non-finite one). g = (L₊ − L₋)/(2ε) is a directional derivative (|g| ≈ 0.1–10 on the bundled model), so
    /// G = 1000 means a loss difference |L₊ − L₋| ≤ 2εG (2 nats at ε = 1e-3) between the two perturbed evaluations: far
    /// above an honest step, and with normalised weights one round moves H[s] by at most τ·G (docs/server.md §Limits).
    /// Default 1000.</summary>
    public float MaxAbsScalar { get; set; } = DefaultMaxAbsScalar;

    /// <summary>The default of <see cref="MaxAbsScalar"/>.</summary>
    public const float DefaultMaxAbsScalar = 1000f;

    public void Validate()
    {
        TrainingLimits.Check(SeedCount, 1, TrainingLimits.MaxSeedCount, "SeedCount (K, --seed-count)");
        TrainingLimits.Check(LocalSteps, 1, TrainingLimits.MaxLocalSteps, "LocalSteps (τ, --local-steps)");
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be finite and > 0.");
        if (!(MaxAbsScalar > 0) || !float.IsFinite(MaxAbsScalar))
            throw new ArgumentOutOfRangeException(nameof(MaxAbsScalar), MaxAbsScalar, "MaxAbsScalar (G, serve --max-abs-scalar) must be finite and > 0.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and > 0.");
        TrainingLimits.Check(BatchSize, 1, TrainingLimits.MaxBatchSize, "BatchSize");
    }
}

/// <summary>
/// Server side of FedKSeed: needs no model. Validates seed-scalar payloads (serialized <c>SeedScalars</c>: lengths
/// equal, 1..τ entries, each index &lt; K, every scalar finite with |g| ≤ G); aggregation and sync are
/// <see cref="FedKSeedAccumulator"/>'s (H[s] += Σᵢ nᵢ/Σn · Σ gᵢ on s, docs/fedkseed.md), with accumulator version =
/// model version. A version's stored payload is the round's client scalars (<see cref="FedKSeedRoundCodec"/>), so a
/// restart replays them into a fresh accumulator. Memory: K doubles + one log entry per (seed, version) change.
/// </summary>
public sealed class FedKSeedStrategy : IFederationStrategy
{
    private readonly FedKSeedStrategyOptions _options;
    private FedKSeedAccumulator _accumulator;
    private FedKSeedPro? _pro;

    public FedKSeedStrategy(FedKSeedStrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _accumulator = new FedKSeedAccumulator(options.SeedCount);
        _pro = options.Pro ? new FedKSeedPro(options.SeedCount) : null;
    }

    public TrainingMethodKind Method => TrainingMethodKind.FedKSeed;

    /// <inheritdoc />
    public long LatestVersion => _accumulator.Version;

    /// <summary>H at the latest version (K values).</summary>
    public ReadOnlySpan<double> AccumulatedScalars => _accumulator.Values;

    public void Restore(IReadOnlyList<ModelVersionRecord> history)
    {
        _accumulator = new FedKSeedAccumulator(_options.SeedCount);
        _pro = _options.Pro ? new FedKSeedPro(_options.SeedCount) : null;
        foreach (var version in history) Apply(version);
    }

    /// <summary>The round's settings; with Pro, the seed probabilities of the history up to the latest version.</summary>
    public RoundParameters ConfigureRound(long roundId, long modelVersion) => new FedKSeedRoundParameters(
        _options.SeedCount, _options.SeedPoolMasterSeed, _options.LocalSteps, _options.Epsilon, _options.LearningRate,
        _options.BatchSize, _pro is null ? [] : SeedProbabilities(_pro), _options.MaxAbsScalar, _options.Trainable);

    private static float[] SeedProbabilities(FedKSeedPro pro)
    {
        var p = new double[pro.SeedCount];
        pro.Probabilities(p);
        return [.. p.Select(static v => (float)v)];
    }

    public void ValidateUpdate(RoundParameters parameters, ReadOnlySpan<byte> payload) => Parse(payload, (FedKSeedRoundParameters)parameters);

    public byte[] Aggregate(RoundRecord round, IReadOnlyList<AcceptedUpdate> results, IReadOnlyList<RoundFailure> failures)
    {
        var parameters = (FedKSeedRoundParameters)ConfigureRound(round.RoundId, round.BaseVersion);
        var clients = new List<ClientScalars>(results.Count);
        foreach (var update in results)
            clients.Add(new ClientScalars(checked((long)update.SampleCount), Parse(update.Payload, parameters)));
        // Validates now, before the commit; and a new H that float32 cannot hold (ΔH downloads and checkpoints are float32)
        // abandons the round instead of poisoning every later version. Unreachable with |g| ≤ G; checked all the same.
        var h = _accumulator.Values;
        foreach (var (seed, increment) in FedKSeedAccumulator.RoundIncrement(_options.SeedCount, clients))
            if (!float.IsFinite((float)(h[seed] + increment)))
                throw new InvalidOperationException($"Round {round.RoundId} would make H[{seed}] = {h[seed] + increment:G3}, beyond float32; the round is not aggregated.");
        return FedKSeedRoundCodec.Encode(clients);
    }

    public void Apply(ModelVersionRecord version)
    {
        if (version.Version != _accumulator.Version + 1)
            throw new InvalidOperationException($"Version {version.Version} cannot follow version {_accumulator.Version}.");
        var clients = FedKSeedRoundCodec.Decode(version.Payload);
        _accumulator.Apply(version.Version, clients);
        if (_pro is not null) foreach (var client in clients) _pro.Observe(client.Steps);
    }

    public ModelDelta GetModelDelta(long sinceVersion)
    {
        long latest = _accumulator.Version;
        if (sinceVersion < 0 || sinceVersion > latest)
            throw FederationException.Precondition($"since_version {sinceVersion} is unknown; the latest model version is {latest}.");
        var delta = _accumulator.DeltaSince(sinceVersion);
        var indices = new uint[delta.Count];
        var values = new float[delta.Count];
        for (int i = 0; i < delta.Count; i++)
        {
            indices[i] = (uint)delta[i].SeedIndex;
            values[i] = delta[i].Value;
        }
        return new ModelDelta(ModelDeltaKind.SeedDelta, sinceVersion, latest, indices, values, []);
    }

    /// <summary>Decodes and checks a serialized SeedScalars payload.</summary>
    /// <exception cref="FederationException">INVALID_ARGUMENT naming the first problem.</exception>
    internal static SeedScalar[] Parse(ReadOnlySpan<byte> payload, FedKSeedRoundParameters parameters)
    {
        SeedScalar[] steps;
        try
        {
            steps = SeedScalars.Decode(payload);
        }
        catch (InvalidDataException ex)
        {
            throw FederationException.Invalid(ex.Message);
        }
        int n = steps.Length;
        if (n == 0)
            throw FederationException.Invalid("seed_scalars is empty; at least one (seed index, scalar) pair is needed.");
        if (n > parameters.LocalSteps)
            throw FederationException.Invalid($"seed_scalars has {n} entries; the round allows at most τ = {parameters.LocalSteps}.");
        for (int t = 0; t < n; t++)
        {
            uint s = (uint)steps[t].SeedIndex;
            float g = steps[t].Value;
            if (s >= (uint)parameters.SeedCount)
                throw FederationException.Invalid($"seed_indices[{t}] = {s} is not below K = {parameters.SeedCount}.");
            if (!float.IsFinite(g))
                throw FederationException.Invalid($"scalars[{t}] = {g} is not finite.");
            if (Math.Abs(g) > parameters.MaxAbsScalar)
                throw FederationException.Invalid($"scalars[{t}] = {g:G9} is outside [−G, G] with G = max_abs_scalar = {parameters.MaxAbsScalar:G9}.");
        }
        return steps;
    }
}
