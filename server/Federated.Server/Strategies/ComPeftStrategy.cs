using Federated.Aggregation.Merging;
using Federated.Compression.Dense;
using Federated.Compression.Ternary;
using Federated.Core;
using Federated.Server.Domain;
using Federated.Server.Parameters;
using System.Numerics.Tensors;

namespace Federated.Server.Strategies;

/// <summary>How the server merges the decoded client updates of a round.</summary>
public enum ComPeftAggregation
{
    /// <summary>FedAvg: Σ wᵢ·Δ̂ᵢ / Σ wᵢ with wᵢ = sample count (exact FedAvg of ΔW under FFA-LoRA).</summary>
    Mean = 1,
    /// <summary>TIES (trim, elect sign, disjoint mean), weighted by sample count; docs/compeft.md §5.</summary>
    Ties = 2,
}

/// <summary>ComPEFT round hyper-parameters (mirrors the wire ComPeftParameters; converted at the Host edge).
/// <see cref="Density"/> = 1 means a dense float32 upload (plain FedAvg-LoRA). <see cref="MaxUpdateElement"/> is U, the
/// bound on every decoded element of an update (<see cref="ComPeftStrategyOptions.MaxUpdateElement"/>).</summary>
public sealed record ComPeftRoundParameters(int Rank, float Alpha, IReadOnlyList<string> TargetModules, float Density,
    float ScaleFactor, float LearningRate, int LocalSteps, int BatchSize, bool FreezeA, ulong LoraASeed,
    bool LeastSquaresScale, bool ErrorFeedback, int UpdateElementCount, float MaxUpdateElement) : RoundParameters;

/// <summary>ComPEFT server options; defaults from <see cref="ComPeftSettings"/> (the one home of ComPEFT's defaults,
/// shared with the simulator and every CLI verb).</summary>
public sealed class ComPeftStrategyOptions
{
    private static readonly ComPeftSettings Defaults = ComPeftSettings.Default;

    /// <summary>n, the length of the flattened update (the adapter's trainable size in LoraUpdateLayout order). Required.</summary>
    public int UpdateElementCount { get; set; }
    /// <summary>LoRA rank r.</summary>
    public int Rank { get; set; } = Defaults.Rank;
    /// <summary>LoRA α (scaling α/r).</summary>
    public float Alpha { get; set; } = Defaults.Alpha;
    /// <summary>Projections wrapped by LoRA.</summary>
    public IReadOnlyList<string> TargetModules { get; set; } = Defaults.TargetModules;
    /// <summary>Upload density d in (0, 1]; 1 = dense float32 uploads.</summary>
    public float Density { get; set; } = (float)Defaults.UploadDensity;
    /// <summary>ComPEFT α for scale = α·σ(Δ); 0 = per-density default.</summary>
    public float ScaleFactor { get; set; } = (float)(Defaults.ScaleFactor ?? 0);
    /// <summary>Client AdamW learning rate.</summary>
    public float LearningRate { get; set; } = Defaults.LearningRate;
    /// <summary>τ, client optimizer steps per round.</summary>
    public int LocalSteps { get; set; } = Defaults.LocalSteps;
    /// <summary>Examples per client step.</summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;
    /// <summary>FFA-LoRA (A frozen from <see cref="LoraASeed"/>, only B sent).</summary>
    public bool FreezeA { get; set; } = Defaults.FreezeA;
    /// <summary>Seed of the shared initial adapter (A); the run seed.</summary>
    public ulong LoraASeed { get; set; } = FederationSettings.Default.Seed;
    /// <summary>STC least-squares scale instead of α·σ.</summary>
    public bool LeastSquaresScale { get; set; } = Defaults.LeastSquaresScale;
    /// <summary>Clients keep an error-feedback residual.</summary>
    public bool ErrorFeedback { get; set; } = Defaults.ErrorFeedback;
    /// <summary>Merge rule.</summary>
    public ComPeftAggregation Aggregation { get; set; } = Defaults.Aggregation;
    /// <summary>TIES options (trim density, λ) when <see cref="Aggregation"/> is Ties.</summary>
    public TiesOptions Ties { get; set; } = TiesOptions.Default with { Lambda = Defaults.TiesLambda };
    /// <summary>Downlink: 0 = each version's payload is the dense merged Δ; in (0, 1) = the merged Δ re-compressed with
    /// the ternary codec at this density (α·σ scale, no server residual).</summary>
    public float DownlinkDensity { get; set; } = (float)Defaults.DownlinkDensity;

    /// <summary>Takes every hyper-parameter from <paramref name="settings"/>, the shared A's seed from
    /// <paramref name="runSeed"/> and n from <paramref name="updateElementCount"/>.</summary>
    public void Apply(ComPeftSettings settings, ulong runSeed, int updateElementCount)
    {
        ArgumentNullException.ThrowIfNull(settings);
        UpdateElementCount = updateElementCount;
        Rank = settings.Rank;
        Alpha = settings.Alpha;
        TargetModules = settings.TargetModules;
        Density = (float)settings.UploadDensity;
        ScaleFactor = (float)(settings.ScaleFactor ?? 0);
        LearningRate = settings.LearningRate;
        LocalSteps = settings.LocalSteps;
        BatchSize = settings.BatchSize;
        FreezeA = settings.FreezeA;
        LoraASeed = runSeed;
        LeastSquaresScale = settings.LeastSquaresScale;
        ErrorFeedback = settings.ErrorFeedback;
        Aggregation = settings.Aggregation;
        Ties = TiesOptions.Default with { Lambda = settings.TiesLambda };
        DownlinkDensity = (float)settings.DownlinkDensity;
    }
    /// <summary>U, the bound on every decoded element of a pushed update: |Δ̂ᵢ| ≤ U (a ternary payload's scale, or each
    /// value of a dense one), else INVALID_ARGUMENT. 0 (default) = <see cref="DefaultMaxUpdateElementPerStep"/>·τ·η.</summary>
    public float MaxUpdateElement { get; set; }

    /// <summary>The default U per unit of τ·η: AdamW moves an element by at most ≈ (1−β₁)/√(1−β₂)·η ≈ 3.16·η per step
    /// (Kingma &amp; Ba §2.1, β = (0.9, 0.999)), so an honest Δ after τ steps is within 3.16·τ·η; the ternary scale α(d)·σ
    /// and an error-feedback residual add up to a few times that. 64 leaves that room and still bounds what one client
    /// adds to the merged adapter in a round (docs/server.md §Limits).</summary>
    public const float DefaultMaxUpdateElementPerStep = 64f;

    /// <summary>U as the server enforces it: <see cref="MaxUpdateElement"/>, or the default from τ and η.</summary>
    public float EffectiveMaxUpdateElement => MaxUpdateElement > 0 ? MaxUpdateElement : DefaultMaxUpdateElementPerStep * LocalSteps * LearningRate;

    public void Validate()
    {
        if (UpdateElementCount < 1) throw new ArgumentOutOfRangeException(nameof(UpdateElementCount), UpdateElementCount, "UpdateElementCount (the adapter's trainable size) must be at least 1.");
        TrainingLimits.Check(Rank, 1, TrainingLimits.MaxLoraRank, "Rank (--lora-rank)");
        if (!(Alpha > 0) || !float.IsFinite(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be finite and > 0.");
        if (TargetModules is null || TargetModules.Count == 0) throw new ArgumentOutOfRangeException(nameof(TargetModules), "TargetModules must name at least one projection.");
        if (!(Density > 0 && Density <= 1)) throw new ArgumentOutOfRangeException(nameof(Density), Density, "Density must be in (0, 1].");
        if (!(ScaleFactor >= 0) || !float.IsFinite(ScaleFactor)) throw new ArgumentOutOfRangeException(nameof(ScaleFactor), ScaleFactor, "ScaleFactor must be finite and ≥ 0 (0 = default).");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and > 0.");
        TrainingLimits.Check(LocalSteps, 1, TrainingLimits.MaxLocalSteps, "LocalSteps (τ, --local-steps)");
        TrainingLimits.Check(BatchSize, 1, TrainingLimits.MaxBatchSize, "BatchSize (--batch-size)");
        if (!Enum.IsDefined(Aggregation)) throw new ArgumentOutOfRangeException(nameof(Aggregation), Aggregation, "Aggregation must be Mean or Ties.");
        ArgumentNullException.ThrowIfNull(Ties);
        Ties.Validate();
        if (!(DownlinkDensity >= 0 && DownlinkDensity < 1)) throw new ArgumentOutOfRangeException(nameof(DownlinkDensity), DownlinkDensity, "DownlinkDensity must be in [0, 1) (0 = dense).");
        if (!(MaxUpdateElement >= 0) || !float.IsFinite(MaxUpdateElement) || !float.IsFinite(EffectiveMaxUpdateElement))
            throw new ArgumentOutOfRangeException(nameof(MaxUpdateElement), MaxUpdateElement, "MaxUpdateElement (U, serve --max-update-element) must be finite and ≥ 0 (0 = 64·τ·η).");
    }
}

/// <summary>
/// Server side of ComPEFT rounds: needs no model, only the update length n. Validates each upload (a ternary payload
/// when the round's density is below 1, else a dense float32 payload; checksum, header and element count = n, then a
/// full decode so a malformed position stream is refused at push time, not at aggregation), merges a round's updates by
/// sample-weighted mean or TIES into the next version's payload (the merged Δ, dense or re-compressed), and serves
/// the change since any committed version: that version's payload when one behind, else the dense sum.
/// Memory: one payload per version plus one n-float scratch.
/// </summary>
public sealed class ComPeftStrategy : IFederationStrategy
{
    private readonly ComPeftStrategyOptions _options;
    private readonly List<byte[]> _versions = [];  // [v−1] = payload of version v
    private readonly float[] _scratch;

    public ComPeftStrategy(ComPeftStrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _scratch = new float[options.UpdateElementCount];
    }

    public TrainingMethodKind Method => TrainingMethodKind.ComPeft;

    /// <inheritdoc />
    public long LatestVersion => _versions.Count;

    /// <summary>Uploads at this density are dense float32 (plain FedAvg-LoRA).</summary>
    public bool DenseUploads => _options.Density >= 1;

    public void Restore(IReadOnlyList<ModelVersionRecord> history)
    {
        _versions.Clear();
        foreach (var version in history) Apply(version);
    }

    public RoundParameters ConfigureRound(long roundId, long modelVersion) => new ComPeftRoundParameters(
        _options.Rank, _options.Alpha, _options.TargetModules, _options.Density, _options.ScaleFactor, _options.LearningRate,
        _options.LocalSteps, _options.BatchSize, _options.FreezeA, _options.LoraASeed, _options.LeastSquaresScale,
        _options.ErrorFeedback, _options.UpdateElementCount, _options.EffectiveMaxUpdateElement);

    public void ValidateUpdate(RoundParameters parameters, ReadOnlySpan<byte> payload)
    {
        var p = (ComPeftRoundParameters)parameters;
        var decoded = _scratch.AsSpan(0, p.UpdateElementCount);
        DecodeChecked(payload, p.Density >= 1, p.UpdateElementCount, decoded);
        int worst = TensorPrimitives.IndexOfMaxMagnitude<float>(decoded);
        if (worst >= 0 && !(Math.Abs(decoded[worst]) <= p.MaxUpdateElement))
            throw FederationException.Invalid(
                $"compressed.payload element {worst} decodes to {decoded[worst]:G9}; every element must be within ±U with U = max_update_element = {p.MaxUpdateElement:G9}.");
    }

    public byte[] Aggregate(RoundRecord round, IReadOnlyList<AcceptedUpdate> results, IReadOnlyList<RoundFailure> failures)
    {
        if (results.Count == 0) throw new ArgumentException("A round needs at least one accepted update to aggregate.", nameof(results));
        int n = _options.UpdateElementCount;
        bool dense = DenseUploads;
        var merged = new float[n];
        var weights = results.Select(r => (double)r.SampleCount).ToArray();
        if (_options.Aggregation == ComPeftAggregation.Mean)
        {
            // Streaming FedAvg: merged += (wᵢ/Σw)·Δ̂ᵢ, in client-id order (deterministic).
            double total = weights.Sum();
            if (!(total > 0)) throw FederationException.Invalid("The accepted updates' sample counts sum to zero.");
            for (int i = 0; i < results.Count; i++)
            {
                float w = (float)(weights[i] / total);
                if (dense) DenseUpdateCodec.DecodeAccumulate(results[i].Payload, w, merged);
                else TernaryCodec.DecodeAccumulate(results[i].Payload, w, merged);
            }
        }
        else
        {
            var decoded = new ReadOnlyMemory<float>[results.Count];
            for (int i = 0; i < results.Count; i++)
            {
                var d = new float[n];
                DecodeChecked(results[i].Payload, dense, n, d);
                decoded[i] = d;
            }
            Ties.Merge(decoded, weights, _options.Ties, merged);
        }
        // A merge of bounded updates is bounded; a non-finite one (unreachable) abandons the round instead of poisoning
        // every later version.
        foreach (float m in merged)
            if (!float.IsFinite(m)) throw new InvalidOperationException($"Round {round.RoundId}'s merged update is not finite; the round is not aggregated.");
        return _options.DownlinkDensity > 0
            ? TernaryCodec.Encode(merged, new TernaryOptions { Density = _options.DownlinkDensity })
            : DenseUpdateCodec.Encode(merged);
    }

    public void Apply(ModelVersionRecord version)
    {
        if (version.Version != _versions.Count + 1)
            throw new InvalidOperationException($"Version {version.Version} cannot follow version {_versions.Count}.");
        DecodeVersion(version.Payload, _scratch); // refuse a corrupt history before it becomes current
        _versions.Add(version.Payload);
    }

    /// <summary>
    /// The adapter change from <paramref name="sinceVersion"/> to the latest, as a payload (kind CompressedAdapter; the
    /// magic tells ternary "TRNY" from dense "F32U"): empty when up to date, the version's own payload when one behind,
    /// else the dense sum of the versions after <paramref name="sinceVersion"/>.
    /// </summary>
    public ModelDelta GetModelDelta(long sinceVersion)
    {
        long latest = _versions.Count;
        if (sinceVersion < 0 || sinceVersion > latest)
            throw FederationException.Precondition($"since_version {sinceVersion} is unknown; the latest model version is {latest}.");
        byte[] payload;
        if (sinceVersion == latest) payload = [];
        else if (sinceVersion == latest - 1) payload = _versions[^1];
        else
        {
            var sum = new float[_options.UpdateElementCount];
            for (int v = (int)sinceVersion; v < latest; v++) AccumulateVersion(_versions[v], sum);
            payload = DenseUpdateCodec.Encode(sum);
        }
        return new ModelDelta(ModelDeltaKind.CompressedAdapter, sinceVersion, latest, [], [], payload);
    }

    /// <summary>Adds a version (or GetModelDelta) payload, ternary or dense, into <paramref name="accumulator"/>; empty = no change.</summary>
    public static void AccumulateVersion(ReadOnlySpan<byte> payload, Span<float> accumulator) =>
        Compression.AdapterUpdatePayload.Accumulate(payload, accumulator);

    private void DecodeVersion(ReadOnlySpan<byte> payload, Span<float> destination)
    {
        destination.Clear();
        try
        {
            AccumulateVersion(payload, destination);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"A stored ComPEFT model version is corrupt: {e.Message}", e);
        }
    }

    /// <summary>Checks format, checksum, element count and every field by decoding into <paramref name="destination"/>.</summary>
    /// <exception cref="FederationException">INVALID_ARGUMENT with one sentence.</exception>
    private static void DecodeChecked(ReadOnlySpan<byte> payload, bool dense, int elementCount, Span<float> destination)
    {
        try
        {
            if (dense)
            {
                if (!DenseUpdateCodec.HasMagic(payload))
                    throw FederationException.Invalid("compressed.payload must be a dense float32 update (magic \"F32U\") in a round with density 1.");
                int n = DenseUpdateCodec.ReadElementCount(payload);
                if (n != elementCount)
                    throw FederationException.Invalid($"compressed.payload has {n} elements; the round's adapter update has {elementCount}.");
                destination.Clear();
                DenseUpdateCodec.DecodeAccumulate(payload, 1f, destination);
            }
            else
            {
                var header = TernaryCodec.ReadHeader(payload);
                if (header.ElementCount != elementCount)
                    throw FederationException.Invalid($"compressed.payload has {header.ElementCount} elements; the round's adapter update has {elementCount}.");
                TernaryCodec.Decode(payload, destination);
            }
        }
        catch (InvalidDataException e)
        {
            throw FederationException.Invalid($"compressed.payload is malformed: {e.Message}");
        }
    }
}
