using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Federated.Server.Parameters;
using Federated.Server.Strategies;

namespace Federated.Cli;

/// <summary>The settings of one run as the command line, the model's federation.json and the defaults give them.</summary>
/// <param name="Method">"fedkseed" or "compeft".</param>
/// <param name="Federation">Rounds, clients per round, seed (and N for simulations).</param>
/// <param name="FedKSeed">FedKSeed's hyper-parameters (used when <paramref name="Method"/> is fedkseed).</param>
/// <param name="ComPeft">ComPEFT's hyper-parameters (used when <paramref name="Method"/> is compeft).</param>
/// <param name="Recommended">The settings taken from the model's federation.json (flag name → value), in file order;
/// empty when it has none or every one was overridden.</param>
/// <param name="RecommendationsFile">The federation.json read, or null.</param>
internal sealed record RunSettings(string Method, FederationSettings Federation, FedKSeedSettings FedKSeed, ComPeftSettings ComPeft,
    IReadOnlyList<KeyValuePair<string, string>> Recommended, string? RecommendationsFile)
{
    /// <summary>The line the verbs print at start when the model recommends settings, or null.</summary>
    public string? RecommendationsLine => Recommended.Count == 0 ? null
        : $"settings from {RecommendationsFile}: {string.Join(", ", Recommended.Select(kv => $"{kv.Key} {kv.Value}"))}";
}

/// <summary>
/// The federation options every verb that configures a federation has (`simulate`, `serve`, `audit`): one set of names,
/// descriptions and defaults, the defaults read from <see cref="FederationSettings"/>, <see cref="FedKSeedSettings"/> and
/// <see cref="ComPeftSettings"/>. A model folder may carry federation.json (<see cref="ModelRecommendations"/>) with
/// recommended values for the same flags; a flag given on the command line wins over it, and it wins over the default.
/// </summary>
internal sealed class FederationOptions
{
    private static readonly FederationSettings F = FederationSettings.Default;
    private static readonly FedKSeedSettings K = FedKSeedSettings.Default;
    private static readonly ComPeftSettings C = ComPeftSettings.Default;

    public Option<string> Method { get; } = new("--method") { Description = "fedkseed (zeroth-order, seeds and scalars) or compeft (LoRA, ternary-compressed updates).", DefaultValueFactory = _ => "fedkseed" };
    public Option<int> Clients { get; }
    public Option<int> ClientsPerRound { get; }
    public Option<int> Rounds { get; }
    public Option<ulong> Seed { get; } = new("--seed")
    {
        Description = "Run seed: the partition, client selection, each client's per-round step seed, the FedKSeed seed pool and the shared LoRA A.",
        DefaultValueFactory = _ => F.Seed,
    };
    public Option<int?> LocalSteps { get; } = new("--local-steps") { Description = $"Local steps per client per round τ (default {K.LocalSteps} zeroth-order steps of batch 1 for fedkseed, {C.LocalSteps} AdamW steps for compeft)." };
    public Option<float?> LearningRate { get; } = new("--lr", "--learning-rate") { Description = $"Learning rate (default {Inv(K.LearningRate)} fedkseed η, constant; {Inv(C.LearningRate)} compeft AdamW)." };
    public Option<int> Seeds { get; } = new("--seeds", "--seed-count") { Description = "fedkseed: candidate seeds K.", DefaultValueFactory = _ => K.SeedCount };
    public Option<float> Epsilon { get; } = new("--epsilon") { Description = "fedkseed: perturbation scale ε.", DefaultValueFactory = _ => K.Epsilon };
    public Option<bool> Pro { get; } = new("--pro") { Description = "fedkseed: FedKSeed-Pro, seed probabilities from the history of |g| (K floats more per task)." };
    public Option<string?> Trainable { get; } = new("--trainable") { Description = "fedkseed: regex over parameter names to train, e.g. 'norm' or 'self_attn|mlp'; all = every tensor (the default)." };
    public Option<double> Density { get; } = new("--density") { Description = "compeft: fraction of each update kept, (0, 1]; 1 = dense float32 (plain FedAvg-LoRA).", DefaultValueFactory = _ => C.Density };
    public Option<bool> Uncompressed { get; } = new("--uncompressed") { Description = "compeft: send updates dense as float32 (same as --density 1)." };
    public Option<double?> ScaleFactor { get; } = new("--scale-factor") { Description = "compeft: ComPEFT α, scale = α·σ(Δ) (default: per-density α(d), docs/compeft.md)." };
    public Option<bool> LeastSquares { get; } = new("--least-squares-scale") { Description = "compeft: STC scale ‖Δ_kept‖₁/k instead of α·σ." };
    public Option<string> Aggregate { get; } = new("--aggregate") { Description = "compeft: server merge, mean (sample-weighted FedAvg) or ties.", DefaultValueFactory = _ => Name(C.Aggregation) };
    public Option<double> TiesLambda { get; } = new("--ties-lambda") { Description = "compeft: TIES λ (server step on the disjoint mean).", DefaultValueFactory = _ => C.TiesLambda };
    public Option<bool> ErrorFeedback { get; } = new("--error-feedback") { Description = "compeft: clients keep a residual of what compression dropped (one adapter-sized vector per client)." };
    public Option<double> Downlink { get; } = new("--downlink-density") { Description = "compeft: re-compress the merged update for the downlink at this density; 0 = dense.", DefaultValueFactory = _ => C.DownlinkDensity };
    public Option<int> Rank { get; } = new("--lora-rank") { Description = "compeft: LoRA rank r.", DefaultValueFactory = _ => C.Rank };
    public Option<float> Alpha { get; } = new("--lora-alpha") { Description = "compeft: LoRA α (scaling α/r).", DefaultValueFactory = _ => C.Alpha };
    public Option<string> Targets { get; } = new("--lora-targets") { Description = "compeft: comma-separated projections to wrap.", DefaultValueFactory = _ => string.Join(",", C.TargetModules) };
    public Option<bool> Ffa { get; } = new("--ffa") { Description = "compeft: FFA-LoRA, A frozen from the run seed, only B trained and sent (default)." };
    public Option<bool> NoFfa { get; } = new("--no-ffa") { Description = "compeft: plain LoRA, A and B trained and averaged separately (inexact, FedIT-style)." };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "compeft: examples per AdamW step.", DefaultValueFactory = _ => C.BatchSize };

    private readonly bool _simulated;
    private readonly FederationSettings _population;

    /// <param name="simulated">Whether the verb simulates its clients (then it has --clients).</param>
    /// <param name="population">The verb's N, M and R defaults when it is not a plain federation (`audit`'s small
    /// canary federation); null = <see cref="FederationSettings.Default"/>. The seed and every method setting are shared.</param>
    public FederationOptions(bool simulated, FederationSettings? population = null)
    {
        _simulated = simulated;
        var p = _population = population ?? F;
        Clients = new("--clients") { Description = "Simulated clients N.", DefaultValueFactory = _ => p.Clients };
        ClientsPerRound = new("--clients-per-round") { Description = "Clients selected per round M.", DefaultValueFactory = _ => p.ClientsPerRound };
        Rounds = new("--rounds") { Description = "Rounds R.", DefaultValueFactory = _ => p.Rounds };
    }

    /// <summary>Every option, in help order.</summary>
    public IEnumerable<Option> All()
    {
        yield return Method;
        if (_simulated) yield return Clients;
        foreach (var o in new Option[] { ClientsPerRound, Rounds, Seed, LocalSteps, LearningRate, Seeds, Epsilon, Pro, Trainable, Density,
            Uncompressed, ScaleFactor, LeastSquares, Aggregate, TiesLambda, ErrorFeedback, Downlink, Rank, Alpha, Targets, Ffa, NoFfa, BatchSize })
            yield return o;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, FederationOptions> Added = [];

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in All()) command.Options.Add(option);
        Added.AddOrUpdate(command, this);
    }

    /// <summary>The federation options added to <paramref name="command"/> (tests read a verb's settings through it).</summary>
    public static FederationOptions Of(Command command) =>
        Added.TryGetValue(command, out var options) ? options : throw new ArgumentException($"`{command.Name}` has no federation options.");

    /// <summary>The run's method and settings: each flag given wins, else the model's federation.json (the method's
    /// section over its top level), else the settings records' default. Throws ArgumentException (exit 2) on a bad value.</summary>
    public RunSettings Read(ParseResult parse, string modelDirectory)
    {
        string method = parse.GetValue(Method)!.ToLowerInvariant();
        if (method is not ("fedkseed" or "compeft"))
            throw new ArgumentException($"--method '{parse.GetValue(Method)}' is unknown; use fedkseed or compeft.");
        var file = ModelRecommendations.Load(modelDirectory, method, [.. All().Select(o => o.Name)]);
        var used = new List<KeyValuePair<string, string>>();
        T Get<T>(Option<T> option)
        {
            if (parse.GetResult(option) is { Implicit: false } || file?.Get(option.Name) is not { } text) return parse.GetValue(option)!;
            used.Add(new(option.Name.TrimStart('-'), text));
            return (T)ModelRecommendations.Convert(text, typeof(T), option.Name, file.Path);
        }

        // A verb with its own population (audit) keeps it: the model's recommended N, M, R are for plain federations.
        int Population(Option<int> option) => _population == F ? Get(option) : parse.GetValue(option);

        if (Get(Ffa) && Get(NoFfa)) throw new ArgumentException("--ffa and --no-ffa contradict each other; give one.");
        int? steps = Get(LocalSteps);
        float? lr = Get(LearningRate);
        var federation = new FederationSettings
        {
            Clients = _simulated ? Population(Clients) : _population.Clients, ClientsPerRound = Population(ClientsPerRound),
            Rounds = Population(Rounds), Seed = Get(Seed),
        };
        string? trainable = Get(Trainable);
        var fedkseed = new FedKSeedSettings
        {
            SeedCount = Get(Seeds), LocalSteps = steps ?? K.LocalSteps, Epsilon = Get(Epsilon), LearningRate = lr ?? K.LearningRate,
            Pro = Get(Pro), Trainable = trainable is null || trainable.Equals("all", StringComparison.OrdinalIgnoreCase) ? null : trainable,
        };
        var compeft = new ComPeftSettings
        {
            Rank = Get(Rank), Alpha = Get(Alpha),
            TargetModules = [.. Get(Targets).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            FreezeA = !Get(NoFfa), Density = Get(Density), Uncompressed = Get(Uncompressed), ScaleFactor = Get(ScaleFactor),
            LeastSquaresScale = Get(LeastSquares), ErrorFeedback = Get(ErrorFeedback), Aggregation = ParseAggregation(Get(Aggregate)),
            TiesLambda = Get(TiesLambda), DownlinkDensity = Get(Downlink), LocalSteps = steps ?? C.LocalSteps,
            BatchSize = Get(BatchSize), LearningRate = lr ?? C.LearningRate,
        };
        if (compeft.TargetModules.Count == 0) throw new ArgumentException("--lora-targets names no projection.");
        return new RunSettings(method, federation, fedkseed, compeft, used, file?.Path);
    }

    private static ComPeftAggregation ParseAggregation(string text) => text.ToLowerInvariant() switch
    {
        "mean" => ComPeftAggregation.Mean,
        "ties" => ComPeftAggregation.Ties,
        _ => throw new ArgumentException($"--aggregate '{text}' is unknown; use mean or ties."),
    };

    private static string Name(ComPeftAggregation aggregation) => aggregation.ToString().ToLowerInvariant();

    private static string Inv(float value) => value.ToString("G3", CultureInfo.InvariantCulture);
}
