using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Core.ZerothOrder;
using Federated.Data;
using Federated.Data.Training;

// How fast can a two-point zeroth-order step (MeZO / FedKSeed, one example and one Gaussian direction z per step)
// lower the population loss L of the train split, when it trains the parameter subset S? To second order,
//   E[ΔL] = −η·‖∇_S L‖² + (η²/2)·E_x[‖∇_S ℓ_x‖²]·tr(H_S)          (the 2·aᵀHa term is dropped: small when d ≫ 1)
// so the best step size is η* = ‖∇_S L‖² / (E‖∇_S ℓ_x‖² · tr H_S) and the best expected gain per step is
//   G* = ‖∇_S L‖⁴ / (2 · E‖∇_S ℓ_x‖² · tr H_S).
// Averaging M clients' τ-step trajectories (FedKSeed's H accumulation) divides the second term by M, which gives the
// same gain per client step: the budget is the total number of client steps.
// Estimates: per-example gradients from the engine's backward on N random train records; ‖∇_S L‖² without the
// N-sample bias, (N·‖ḡ‖² − mean‖g_i‖²)/(N − 1); tr(H_S) by finite differences along z (Hutchinson),
// mean over M samples of (ℓ(w+εz) + ℓ(w−εz) − 2ℓ(w))/ε².
string modelDir = args.Length > 0 ? args[0] : "models/wordnet-base";
int n = args.Length > 1 ? int.Parse(args[1]) : 2048;
const int HessianSamples = 300;
const float Epsilon = 1e-3f;
const int Budget = 20_000; // client steps of the README's full-parameter run (10 rounds × 10 clients × τ 200)
string[] subsets = ["all", "norm", "embed_tokens", "self_attn", "mlp", @"layers\.3\."];

var model = CausalLm.Load(modelDir);
var encoder = new ExampleEncoder(HfTokenizer.Load(modelDir), model.Config.MaxPositions);
var train = BuiltinDataset.Load(DataSplit.Train).Records;
var random = new Random(12345);
var examples = Enumerable.Range(0, n).Select(_ => encoder.Encode(train[random.Next(train.Count)])).ToArray();
var sets = subsets.ToDictionary(s => s, s => TrainableSet.Create(model.Parameters, s));

model.KeepActivationsForBackward = true;
var gradientSum = new double[model.Weights.Length];
var squaredNormSum = subsets.ToDictionary(s => s, _ => 0.0);
foreach (var e in examples)
{
    model.ZeroGrad();
    model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
    model.Backward();
    var gradient = model.Gradients.ToArray();
    for (int i = 0; i < gradient.Length; i++) gradientSum[i] += gradient[i];
    foreach (var s in subsets) squaredNormSum[s] += SquaredNorm(model, sets[s], i => gradient[i]);
}
model.KeepActivationsForBackward = false;

Console.WriteLine($"{modelDir}: N = {n} train records for the gradients, M = {HessianSamples} directions per subset, ε = {Epsilon}");
Console.WriteLine($"| subset | d | ‖∇L‖² | E‖∇ℓ‖² | tr H (± s.e.) | η* | G* per step | G* × {Budget:N0} steps |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var s in subsets)
{
    var set = sets[s];
    double perExample = squaredNormSum[s] / n;
    double population = (n * SquaredNorm(model, set, i => gradientSum[i] / n) - perExample) / (n - 1);
    var traces = new double[HessianSamples];
    var directions = new Random(777);
    for (int j = 0; j < traces.Length; j++)
    {
        var e = examples[directions.Next(n)];
        float center = model.ForwardLoss(e.Ids, 1, e.Ids.Length, e.LossMask);
        var r = ZerothOrderStep.Estimate(model, set, (ulong)directions.NextInt64(), Epsilon, e.Ids, 1, e.Ids.Length, e.LossMask);
        traces[j] = (r.LossPlus + r.LossMinus - 2.0 * center) / ((double)Epsilon * Epsilon);
    }
    double trace = traces.Average();
    double traceSe = Math.Sqrt(traces.Sum(t => (t - trace) * (t - trace)) / (traces.Length - 1) / traces.Length);
    double bestLr = population / (perExample * trace);
    double bestGain = population * population / (2 * perExample * trace);
    Console.WriteLine($"| {s} | {set.ElementCount:N0} | {population:G3} | {perExample:G3} | {trace:G3} ± {traceSe:G2} | {bestLr:G2} | {bestGain:G2} | {bestGain * Budget:G2} |");
}

static double SquaredNorm(CausalLm model, TrainableSet set, Func<int, double> value)
{
    double sum = 0;
    foreach (int t in set.Indices)
    {
        var p = model.Parameters[t];
        for (int i = p.Offset; i < p.Offset + p.Length; i++) { double v = value(i); sum += v * v; }
    }
    return sum;
}
