using System.Text.Json.Serialization;
using Federated.Data.Evaluation;

namespace Federated.Simulation;

/// <summary>One line of metrics.jsonl: what a round did and cost. Null fields were not measured this round.</summary>
/// <param name="Round">Round number, 1-based (0 = the base model before any round).</param>
/// <param name="Clients">Clients that trained this round.</param>
/// <param name="TrainLoss">Mean local training loss of the round's clients (mean of (L+ + L−)/2 over their steps).</param>
/// <param name="EvalLoss">Response-token loss of the global model on the evaluation set.</param>
/// <param name="RougeL">Rouge-L F-measure of greedy generations (definition task), when generation ran.</param>
/// <param name="Accuracy">Exact-match accuracy (category task), when generation ran.</param>
/// <param name="BytesUpPerClient">Mean serialized uplink message size per client, bytes.</param>
/// <param name="BytesDownPerClient">Mean serialized downlink (task + model sync) size per client, bytes.</param>
/// <param name="DroppedSteps">Local steps dropped for non-finite losses.</param>
/// <param name="WallSeconds">Wall time of the round (training + aggregation + replay + eval).</param>
/// <param name="ReplaySeconds">Time spent replaying ΔH into the global model.</param>
/// <param name="ClientSeconds">Mean time one selected client spent on its local work (training and encoding its update).</param>
public sealed record RoundMetrics(
    long Round,
    int Clients,
    double? TrainLoss,
    double? EvalLoss,
    double? RougeL,
    double? Accuracy,
    double BytesUpPerClient,
    double BytesDownPerClient,
    int DroppedSteps,
    double WallSeconds,
    double ReplaySeconds,
    double ClientSeconds = 0);

/// <summary>Quality of one model: the base, or the final global model.</summary>
/// <param name="Scores">Every evaluated example's score (for the paired final − base comparison); not serialized.</param>
public sealed record ModelQuality(double EvalLoss, double? RougeL, double? Accuracy,
    [property: JsonIgnore] DetailedEvaluation? Scores = null)
{
    /// <summary>Equal aggregates (the per-example <see cref="Scores"/> are not compared).</summary>
    public bool Equals(ModelQuality? other) => other is not null && EvalLoss.Equals(other.EvalLoss) &&
        Nullable.Equals(RougeL, other.RougeL) && Nullable.Equals(Accuracy, other.Accuracy);

    public override int GetHashCode() => HashCode.Combine(EvalLoss, RougeL, Accuracy);
}

/// <summary>summary.json and `simulate --json`.</summary>
/// <param name="BytesUpPerClientRound">Mean serialized ClientUpdate size per client per round, bytes (headers included).</param>
/// <param name="Fp32UpdateBytes">The same update uncompressed: 4 bytes per element sent (ComPEFT; null for FedKSeed).</param>
/// <param name="UplinkCompression">Fp32UpdateBytes / BytesUpPerClientRound (null for FedKSeed).</param>
/// <param name="Artifacts">Files or folders written besides metrics and plots (e.g. the global adapter).</param>
/// <param name="ClientSecondsPerRound">Mean over rounds of <see cref="RoundMetrics.ClientSeconds"/>.</param>
/// <param name="Delta">Paired differences final − base on the same evaluation records and generations (loss
/// token-weighted; mean, se, t, p, 95% interval, n; as `federated eval --compare`), or null when not both were scored.</param>
/// <param name="PeakMemoryMb">Peak resident memory of the whole simulator process (VmHWM), MB: the model, the data and
/// every simulated client's state.</param>
public sealed record SimulationSummary(
    string Method,
    int Rounds,
    int Clients,
    int ClientsPerRound,
    ModelQuality Base,
    ModelQuality Final,
    double BytesUpPerClientRound,
    double BytesDownPerClientRound,
    double WallS,
    string OutDir,
    long? Fp32UpdateBytes = null,
    double? UplinkCompression = null,
    IReadOnlyList<string>? Artifacts = null,
    double? ClientSecondsPerRound = null,
    double? PeakMemoryMb = null,
    EvaluationComparison? Delta = null);
