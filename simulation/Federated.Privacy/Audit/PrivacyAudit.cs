using System.Diagnostics;
using System.Text.Json;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.Tokenization;
using Federated.Core.ZerothOrder;
using Federated.Data;
using Federated.Data.Training;
using Federated.Privacy.Accounting;
using Federated.Privacy.Capture;
using Federated.Privacy.Gradients;
using Federated.Privacy.Inversion;
using Federated.Privacy.Membership;
using Federated.Privacy.Metrics;
using Federated.Privacy.TokenSet;
using Federated.Privacy.ZerothOrder;

namespace Federated.Privacy.Audit;

/// <summary>
/// Runs the probes that apply to a captured run (docs/privacy-defences.md §audit) and collects their numbers:
/// <list type="bullet">
/// <item>ComPEFT: token-set leakage and gradient inversion on the first update of round 1 (the decoded Δ̂ the server
/// received, against an oracle at the round-start adapter rebuilt from the manifest and the captured versions).</item>
/// <item>FedKSeed: gradient recovery from that update's (seed, scalar) pairs (cosine vs chance; reported in the
/// inversion slot) and the scalar-matching membership test (members = the examples it trained on, non-members =
/// evaluation records).</item>
/// <item>Both: loss and reference (base-model) membership inference on the final global model, members = the
/// planted canaries (or trained examples without canaries); the RDP (ε, δ) of the most exposed client.</item>
/// </list>
/// The ground truth (which examples a client used) comes from the capture's client-secret field; probes never read it.
/// </summary>
public static class PrivacyAudit
{
    public static AuditReport Run(CapturedRun run, AuditOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var m = run.Manifest;
        if (run.Updates.Count == 0) throw new InvalidDataException($"The capture in '{run.Directory}' holds no updates.");
        var context = new Context(run);
        var skipped = new List<string>();
        var target = run.Updates.Where(u => u.Round == run.Updates.Min(x => x.Round)).First();
        string targetName = $"round {target.Round} {target.ClientId}";
        bool compeft = m.Method == "compeft";

        AuditTokenSet? tokenSet = null;
        AuditInversion? inversion = null;
        AuditZoGradient? zoGradient = null;
        AuditZoMembership? zoMembership = null;
        if (compeft)
        {
            if (options.Probes.Contains(AuditProbes.ZoMembership)) skipped.Add("zo-membership: FedKSeed only (ComPEFT sends a first-order update)");
            if (options.Probes.Contains(AuditProbes.TokenSet) || options.Probes.Contains(AuditProbes.Inversion))
            {
                progress?.Invoke($"token-set footprints over {context.Model.Config.VocabSize:N0} tokens ({targetName})");
                var (oracle, delta, truth) = context.LoraView(target);
                // The attacker is assumed to know the batch shape (as the inversion does), so it reports as many tokens as
                // the batch holds positions (capped at 64): no oracle knowledge of the distinct-token count.
                // Span scoring needs the update's matrices to be low rank against their sides: with more tokens in the
                // batch than the LoRA rank the spans fill up, so the cosine score is used there (docs/privacy.md §2).
                int positions = truth.Sum(e => e.Ids.Length);
                var ranking = TokenSetProbe.FromUpdate(oracle, delta, new TokenSetOptions
                {
                    SetSize = Math.Clamp(positions, 1, 64),
                    Scoring = positions > (m.LoraRank ?? 8) ? TokenSetScoring.Cosine : TokenSetScoring.Span,
                }, cancellationToken);
                var trueTokens = truth.SelectMany(e => e.Ids).ToHashSet();
                if (options.Probes.Contains(AuditProbes.TokenSet))
                {
                    var score = TokenSetScore.Compute(ranking.Recovered, trueTokens, context.Model.Config.VocabSize);
                    tokenSet = new AuditTokenSet(targetName, score.Precision, score.Recall, score.F1, score.RecoveredCount, score.TrueCount, score.ChanceRecall, ranking.Method);
                }
                if (options.Probes.Contains(AuditProbes.Inversion))
                {
                    progress?.Invoke($"gradient inversion ({targetName}, {truth.Length} sequence(s), ≤ {options.InversionEvaluations:N0} evaluations)");
                    var batch = truth.Take(8).ToArray();
                    if (batch.Length < truth.Length) skipped.Add($"inversion: only the first 8 of {truth.Length} sequences of the update are reconstructed");
                    // Known prompt (default): the prompt tokens are fixed (the public template and the question), the
                    // private response is reconstructed and scored alone. Otherwise every position is unknown and scored.
                    var shape = batch.Select(e => new InversionSequence(e.Ids.Length, e.PromptLength,
                        options.InversionKnownPrompt ? [.. e.Ids.Select((id, k) => k < e.PromptLength ? id : -1)] : null)).ToArray();
                    var result = GradientInversion.Reconstruct(oracle, delta, shape, ranking.Ranking.Take(options.InversionPrior).ToArray(),
                        new InversionOptions { MaxEvaluations = options.InversionEvaluations, TimeLimit = options.InversionTimeLimit }, cancellationToken);
                    int from(TokenizedExample e) => options.InversionKnownPrompt ? e.PromptLength : 0;
                    var score = ReconstructionScore.Compute([.. batch.Select(e => e.Ids[from(e)..])],
                        [.. result.Sequences.Select((seq, b) => seq[from(batch[b])..])], ids => context.Tokenizer.Decode(ids));
                    inversion = new AuditInversion(targetName, options.InversionKnownPrompt, score.TokenAccuracy, score.RougeL, score.TrueTexts, score.ReconstructedTexts,
                        result.MatchingLoss, result.InitialMatchingLoss, result.Evaluations, result.Truncated);
                }
            }
        }
        else
        {
            if (options.Probes.Contains(AuditProbes.TokenSet)) skipped.Add("token-set: ComPEFT only (FedKSeed sends no first-order update, only (seed, scalar) pairs)");
            if (options.Probes.Contains(AuditProbes.Inversion) || options.Probes.Contains(AuditProbes.ZoMembership))
            {
                var (trainable, observations, truth) = context.SeedView(target);
                if (options.Probes.Contains(AuditProbes.Inversion))
                {
                    progress?.Invoke($"gradient recovery from {observations.Length} (seed, scalar) pairs ({targetName})");
                    var g = ZerothOrderProbe.RecoverGradient(context.Model, trainable, observations, truth, cancellationToken);
                    zoGradient = new AuditZoGradient(targetName, g.Cosine, g.ChanceCosine, g.Pairs, g.Dimension);
                }
                if (options.Probes.Contains(AuditProbes.ZoMembership))
                {
                    var members = truth.Distinct().Take(options.MaxMembers).ToArray();
                    // Members are task records, so the non-members are task records too (evaluation data), not the canaries'
                    // matched non-members: a different distribution would let the test tell the sets apart by style alone.
                    var nonMembers = context.NonMembers(options, members.Length, matchedCanaries: false);
                    if (nonMembers.Length == 0) skipped.Add("zo-membership: the evaluation data holds no record outside the training data (no non-members)");
                    else
                    {
                    progress?.Invoke($"scalar-matching membership ({members.Length} members, {nonMembers.Length} non-members)");
                    var r = ZerothOrderProbe.Membership(context.Model, trainable, observations, members, nonMembers,
                        new ZoMembershipOptions { Epsilon = m.Epsilon ?? 1e-3f }, cancellationToken);
                    zoMembership = new AuditZoMembership(targetName, new AuditRoc(r.Roc.Auc, r.Roc.TprAtFpr, r.Roc.Positives, r.Roc.Negatives,
                        [.. r.MemberResiduals.Select(x => -x)], [.. r.NonMemberResiduals.Select(x => -x)]));
                    }
                }
            }
        }

        AuditMia? mia = null;
        var (miaMembers, miaSource) = options.Probes.Contains(AuditProbes.Mia) ? context.MiaMembers(options) : ([], "");
        var miaNonMembers = options.Probes.Contains(AuditProbes.Mia) ? context.NonMembers(options, miaMembers.Length) : [];
        if (options.Probes.Contains(AuditProbes.Mia) && miaNonMembers.Length == 0)
            skipped.Add("mia: no non-members (no matched canaries, and the evaluation data holds no record outside the training data)");
        else if (options.Probes.Contains(AuditProbes.Mia))
        {
            var (members, source, nonMembers) = (miaMembers, miaSource, miaNonMembers);
            progress?.Invoke($"membership inference on the final model ({members.Length} {source}, {nonMembers.Length} non-members)");
            context.ToBaseModel();
            var refMembers = MembershipInference.ExampleLosses(context.Model, members, cancellationToken);
            var refNonMembers = MembershipInference.ExampleLosses(context.Model, nonMembers, cancellationToken);
            context.ToFinalModel();
            var r = MembershipInference.FromLosses(MembershipInference.ExampleLosses(context.Model, members, cancellationToken),
                MembershipInference.ExampleLosses(context.Model, nonMembers, cancellationToken), refMembers, refNonMembers);
            int canaryDraws = run.Updates.Sum(u => u.ClientSecretExampleIndices.Count(i => i >= m.TrainCount));
            mia = new AuditMia(source, canaryDraws, Roc(r.LossAttack, r.MemberLosses.Select(x => -x), r.NonMemberLosses.Select(x => -x)),
                r.ReferenceAttack is { } ra
                    ? Roc(ra, refMembers.Zip(r.MemberLosses, (a, b) => a - b), refNonMembers.Zip(r.NonMemberLosses, (a, b) => a - b))
                    : null);
        }

        var defences = new AuditDefences(m.Density, m.Uncompressed, m.DpClipNorm, m.DpNoiseMultiplier, m.SecureAggregation);
        return new AuditReport(m.Method, run.Directory, defences, Accounting(run, options.Delta), tokenSet, inversion, zoGradient, zoMembership, mia,
            Quality(run.Directory), skipped, clock.Elapsed.TotalSeconds);
    }

    /// <summary>(ε, δ) of the client with the largest ε: q = its sampling rate, T = its local steps over the run, σ.</summary>
    public static AuditDp? Accounting(CapturedRun run, double delta)
    {
        var m = run.Manifest;
        if (m.DpClipNorm <= 0) return null;
        AuditDp? worst = null;
        foreach (var client in run.Updates.GroupBy(u => u.ClientId))
        {
            double q = client.Max(u => u.SamplingRate);
            long steps = client.Sum(u => (long)u.LocalSteps);
            if (client.Key == CaptureFormat.AggregateClientId)
                steps = client.Sum(u => (long)Math.Ceiling((double)u.LocalSteps / Math.Max(1, u.AggregatedClients?.Count ?? 1)));
            if (!(q > 0) || steps == 0) continue;
            string note = "Poisson-sampling RDP accountant (Opacus' conversion); clients draw batches with replacement, so the figure is an approximation"
                + (client.Key == CaptureFormat.AggregateClientId ? "; under secure aggregation per-client steps are estimated as the mean" : "");
            if (m.DpNoiseMultiplier <= 0)
                return new AuditDp(null, delta, null, q, steps, 0, client.Key, "no noise (σ = 0): clipping alone gives no (ε, δ) guarantee, ε = ∞");
            var spent = RdpAccountant.Epsilon(Math.Min(1, q), m.DpNoiseMultiplier, steps, delta);
            if (worst is null || spent.Epsilon > worst.Epsilon)
                worst = new AuditDp(spent.Epsilon, delta, spent.Order, q, steps, m.DpNoiseMultiplier, client.Key, note);
        }
        return worst;
    }

    private static AuditRoc Roc(RocResult r, IEnumerable<double> members, IEnumerable<double> nonMembers) =>
        new(r.Auc, r.TprAtFpr, r.Positives, r.Negatives, [.. members], [.. nonMembers]);

    /// <summary>summary.json of the simulation that wrote the capture (the capture's parent folder), when present.</summary>
    private static AuditQuality? Quality(string captureDir)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(captureDir).TrimEnd(Path.DirectorySeparatorChar));
        string path = parent is null ? "" : Path.Combine(parent, "summary.json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("final", out var final)) return null;
        double? Get(string name) => final.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        return new AuditQuality(Get("eval_loss"), Get("rouge_l"), Get("accuracy"));
    }

    /// <summary>The model, tokenizer and data of the audited run, and the server-side views rebuilt from the capture.</summary>
    private sealed class Context
    {
        private readonly CapturedRun _run;
        private readonly ExampleEncoder _encoder;
        private readonly IReadOnlyList<InstructionExample> _train;
        private readonly Dictionary<int, TokenizedExample> _encoded = [];

        public Context(CapturedRun run)
        {
            _run = run;
            var m = run.Manifest;
            Model = CausalLm.Load(m.ModelDir);
            Tokenizer = HfTokenizer.Load(m.ModelDir);
            _encoder = new ExampleEncoder(Tokenizer, Math.Min(m.MaxLength, Model.Config.MaxPositions));
            var train = BuiltinDataset.LoadByName(m.Data, DataSplit.Train).Records;
            if (train.Count != m.TrainCount)
                throw new InvalidDataException($"The run's data '{m.Data}' now has {train.Count} training records; the capture was made with {m.TrainCount}.");
            _train = [.. train, .. run.Canaries];
        }

        public CausalLm Model { get; }
        public HfTokenizer Tokenizer { get; }

        public TokenizedExample Example(int index)
        {
            if ((uint)index >= (uint)_train.Count) throw new InvalidDataException($"The capture names training example {index}; the data has {_train.Count}.");
            if (!_encoded.TryGetValue(index, out var e)) _encoded[index] = e = _encoder.Encode(_train[index]);
            return e;
        }

        public TokenizedExample[] Truth(CapturedUpdate update) => [.. update.ClientSecretExampleIndices.Select(Example)];

        /// <summary>ComPEFT: the oracle at the update's round-start adapter, the received Δ̂, and the true examples.</summary>
        public (GradientOracle Oracle, float[] Delta, TokenizedExample[] Truth) LoraView(CapturedUpdate update)
        {
            var m = _run.Manifest;
            var config = new LoraConfig
            {
                Rank = m.LoraRank ?? 8, Alpha = m.LoraAlpha ?? 16, TargetModules = m.LoraTargets ?? ["q_proj", "v_proj"],
                FanInFanOut = Model.Projections.Any(p => p.Conv1D),
            };
            var adapter = LoraAdapter.Create(Model, config, m.LoraASeed ?? m.Seed);
            var layout = LoraUpdateLayout.Create(adapter, m.FreezeA ?? true);
            if (update.BaseVersion > 0) layout.AddTo(adapter, _run.GlobalDeltaAt(update.BaseVersion));
            var delta = _run.DecodeDelta(update);
            if (delta.Length != layout.ElementCount)
                throw new InvalidDataException($"{update.Payload}: {delta.Length} elements, but the manifest's adapter has {layout.ElementCount}.");
            return (GradientOracle.ForLora(Model, adapter, layout), delta, Truth(update));
        }

        /// <summary>FedKSeed: the model at the update's base version, its (seed value, scalar) pairs, and the true examples.</summary>
        public (TrainableSet Trainable, SeedObservation[] Observations, TokenizedExample[] Truth) SeedView(CapturedUpdate update)
        {
            var m = _run.Manifest;
            var pool = SeedPool.Derive(m.SeedPoolMasterSeed ?? m.Seed, m.SeedCount ?? 4096);
            var trainable = TrainableSet.Create(Model.Parameters, m.Trainable);
            ReplayVersions(trainable, pool, update.BaseVersion);
            var pairs = _run.DecodeSeedScalars(update);
            return (trainable, [.. pairs.Select(p => new SeedObservation(pool[p.SeedIndex], p.Value))], Truth(update));
        }

        /// <summary>Moves the model to the last captured version (from the base model / initial adapter).</summary>
        public void ToFinalModel()
        {
            var m = _run.Manifest;
            long last = _run.Versions.Count == 0 ? 0 : _run.Versions[^1].Version;
            if (m.Method == "compeft")
            {
                var config = new LoraConfig
                {
                    Rank = m.LoraRank ?? 8, Alpha = m.LoraAlpha ?? 16, TargetModules = m.LoraTargets ?? ["q_proj", "v_proj"],
                    FanInFanOut = Model.Projections.Any(p => p.Conv1D),
                };
                var adapter = LoraAdapter.Create(Model, config, m.LoraASeed ?? m.Seed);
                var layout = LoraUpdateLayout.Create(adapter, m.FreezeA ?? true);
                if (last > 0) layout.AddTo(adapter, _run.GlobalDeltaAt(last));
                Model.AttachAdapter(adapter);
            }
            else
            {
                var pool = SeedPool.Derive(m.SeedPoolMasterSeed ?? m.Seed, m.SeedCount ?? 4096);
                ReplayVersions(TrainableSet.Create(Model.Parameters, m.Trainable), pool, last);
            }
        }

        private float[]? _baseWeights;

        /// <summary>The base model (the MIA's reference): no adapter, base weights.</summary>
        public void ToBaseModel()
        {
            if (Model.Adapter is not null) Model.DetachAdapter();
            _baseWeights?.CopyTo(Model.Weights);
        }

        /// <summary>Base weights, then w ← w − η·ΔH_v·z for every captured version v ≤ <paramref name="version"/>.</summary>
        private void ReplayVersions(TrainableSet trainable, ulong[] pool, long version)
        {
            if (Model.Adapter is not null) Model.DetachAdapter();
            _baseWeights ??= Model.Weights.ToArray();
            _baseWeights.CopyTo(Model.Weights);
            var sync = new FedKSeedSync(Model, trainable, pool, _run.Manifest.LearningRate);
            foreach (var v in _run.Versions.Where(v => v.Version <= version))
                sync.Apply(_run.DecodeSeedScalars(v));
        }

        /// <summary>MIA members: the distinct canaries, else distinct trained examples (≤ max).</summary>
        public (TokenizedExample[] Members, string Source) MiaMembers(AuditOptions options)
        {
            if (_run.Canaries.Count > 0)
            {
                var distinct = _run.Canaries.Distinct().ToArray();
                return ([.. distinct.Select(_encoder.Encode)], "canaries");
            }
            var trained = _run.Updates.SelectMany(u => u.ClientSecretExampleIndices).Distinct().Take(options.MaxMembers);
            return ([.. trained.Select(Example)], "trained examples");
        }

        /// <summary>Non-members: the given matched records (when <paramref name="matchedCanaries"/>), else evaluation
        /// records not in the training data.</summary>
        public TokenizedExample[] NonMembers(AuditOptions options, int count, bool matchedCanaries = true)
        {
            if (matchedCanaries && options.NonMembers is { Count: > 0 } given) return [.. given.Distinct().Select(_encoder.Encode)];
            var m = _run.Manifest;
            var trainSet = _train.ToHashSet();
            var eval = BuiltinDataset.LoadByName(m.EvalData ?? "builtin:test", DataSplit.Test).Records;
            return [.. eval.Where(r => !trainSet.Contains(r)).Take(Math.Max(2, count)).Select(_encoder.Encode)];
        }
    }
}
