using Federated.Data;

namespace Federated.Privacy.Audit;

/// <summary>The probes `federated audit` knows (the --probes names).</summary>
public static class AuditProbes
{
    public const string TokenSet = "token-set";
    public const string Inversion = "inversion";
    public const string ZoMembership = "zo-membership";
    public const string Mia = "mia";

    public static readonly IReadOnlyList<string> All = [TokenSet, Inversion, ZoMembership, Mia];

    /// <summary>Parses "all" or a comma-separated subset; ArgumentException naming an unknown probe.</summary>
    public static IReadOnlySet<string> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return All.ToHashSet();
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string lower = name.ToLowerInvariant();
            if (!All.Contains(lower)) throw new ArgumentException($"--probes '{name}' is unknown; use all or a comma list of {string.Join(", ", All)}.", "--probes");
            set.Add(lower);
        }
        if (set.Count == 0) throw new ArgumentException("--probes names no probe; use all or a comma list.", "--probes");
        return set;
    }
}

/// <summary>What <see cref="PrivacyAudit.Run"/> does beyond the capture.</summary>
public sealed record AuditOptions
{
    /// <summary>Probes to run (those that do not apply to the method are reported as skipped).</summary>
    public IReadOnlySet<string> Probes { get; init; } = AuditProbes.All.ToHashSet();

    /// <summary>MIA non-members matched to the canaries (never trained on); null/empty = test-split records.</summary>
    public IReadOnlyList<InstructionExample>? NonMembers { get; init; }

    /// <summary>Most matching-loss evaluations of the gradient inversion. Default 3,000.</summary>
    public int InversionEvaluations { get; init; } = 3000;

    /// <summary>Wall-clock bound of the inversion. Default 120 s.</summary>
    public TimeSpan InversionTimeLimit { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Size of the token prior handed to the inversion (top of the token-set ranking). Default 48.</summary>
    public int InversionPrior { get; init; } = 48;

    /// <summary>The inversion's attacker knows each sequence's prompt (the public template and the question) and
    /// reconstructs the private response, which alone is scored. False = every token unknown and scored. Default true.</summary>
    public bool InversionKnownPrompt { get; init; } = true;

    /// <summary>Most members (and non-members) scored by the MIA when no canaries are planted. Default 32.</summary>
    public int MaxMembers { get; init; } = 32;

    /// <summary>δ of the reported (ε, δ). Default 1e-5.</summary>
    public double Delta { get; init; } = 1e-5;

    public void Validate()
    {
        if (InversionEvaluations < 1) throw new ArgumentOutOfRangeException(nameof(InversionEvaluations), InversionEvaluations, "--inversion-evaluations must be at least 1.");
        if (InversionTimeLimit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InversionTimeLimit), InversionTimeLimit, "The inversion time limit must be positive.");
        if (InversionPrior < 2) throw new ArgumentOutOfRangeException(nameof(InversionPrior), InversionPrior, "The inversion prior needs at least 2 tokens.");
        if (MaxMembers < 2) throw new ArgumentOutOfRangeException(nameof(MaxMembers), MaxMembers, "MaxMembers must be at least 2.");
        if (!(Delta > 0 && Delta < 1)) throw new ArgumentOutOfRangeException(nameof(Delta), Delta, "δ must be in (0, 1).");
    }
}

/// <summary>The defences of the audited run, as its manifest states them.</summary>
public sealed record AuditDefences(double? Density, bool? Uncompressed, double DpClip, double DpNoise, bool SecureAggregation);

/// <summary>(ε, δ) from the RDP accountant for the most exposed client (largest ε): q, T and σ as used.</summary>
public sealed record AuditDp(double? Epsilon, double Delta, double? Order, double SamplingRate, long Steps, double NoiseMultiplier, string Client, string Note);

/// <summary>Token-set leakage of one update.</summary>
public sealed record AuditTokenSet(string Update, double Precision, double Recall, double F1, int Recovered, int TrueCount, double ChanceRecall, string Method);

/// <summary>Gradient inversion of one update: the reconstruction against the truth (responses only when
/// <paramref name="KnownPrompt"/>).</summary>
public sealed record AuditInversion(string Update, bool KnownPrompt, double TokenAccuracy, double RougeL, IReadOnlyList<string> TrueTexts,
    IReadOnlyList<string> ReconstructedTexts, double MatchingLoss, double InitialMatchingLoss, int Evaluations, bool Truncated);

/// <summary>Gradient recovery from (seed, scalar) pairs: cosine with the true gradient vs chance √(K/d).</summary>
public sealed record AuditZoGradient(string Update, double Cosine, double ChanceCosine, int Pairs, long Dimension);

/// <summary>A ROC summary with the scores it came from (members positive; higher score = "member").</summary>
public sealed record AuditRoc(double Auc, double TprAt1PctFpr, int Members, int NonMembers, double[] MemberScores, double[] NonMemberScores);

/// <summary>Membership inference on the final global model.</summary>
/// <param name="MemberSource">"canaries" or "trained examples".</param>
/// <param name="CanaryDraws">How many local-step examples were canaries over the whole run (their exposure; ground truth).</param>
public sealed record AuditMia(string MemberSource, int CanaryDraws, AuditRoc LossAttack, AuditRoc? ReferenceAttack);

/// <summary>Scalar-matching membership on one FedKSeed update.</summary>
public sealed record AuditZoMembership(string Update, AuditRoc Roc);

/// <summary>Task quality of the run (summary.json of the simulation), when present.</summary>
public sealed record AuditQuality(double? EvalLoss, double? RougeL, double? Accuracy);

/// <summary>audit.json: every number the audit measured, with what it was measured on.</summary>
public sealed record AuditReport(string Method, string Capture, AuditDefences Defences, AuditDp? Dp, AuditTokenSet? TokenSet,
    AuditInversion? Inversion, AuditZoGradient? ZoGradient, AuditZoMembership? ZoMembership, AuditMia? Mia, AuditQuality? Quality,
    IReadOnlyList<string> Skipped, double WallS);
