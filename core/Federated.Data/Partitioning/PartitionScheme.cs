using System.Globalization;
using MathNet.Numerics.Random;

namespace Federated.Data.Partitioning;

/// <summary>Result of <see cref="PartitionScheme.Apply"/>: record indices (ascending) per client, plus the records
/// excluded by holdout (kept for evaluation) and those no client received (only <c>categories:k</c> with N·k &lt; C).</summary>
public sealed record PartitionResult(IReadOnlyList<int[]> Clients, int[] HeldOut, int[] Unassigned)
{
    /// <summary>The records of one client, in index order.</summary>
    public IReadOnlyList<T> ClientRecords<T>(IReadOnlyList<T> records, int client)
    {
        ArgumentNullException.ThrowIfNull(records);
        if ((uint)client >= (uint)Clients.Count) throw new ArgumentOutOfRangeException(nameof(client), $"Client {client} is not in 0..{Clients.Count - 1}.");
        return Clients[client].Select(i => records[i]).ToArray();
    }

    /// <summary>The held-out records (for evaluation on unseen categories), in index order.</summary>
    public IReadOnlyList<T> HeldOutRecords<T>(IReadOnlyList<T> records) => HeldOut.Select(i => records[i]).ToArray();
}

/// <summary>
/// A partition scheme string: one base scheme and optionally one holdout, joined by '+', in any order.
/// <code>
/// scheme   := part ('+' part)*
/// part     := 'iid'
///           | 'dirichlet:' α [',min=' N]     label-Dirichlet (NIID-Bench), α &gt; 0, min records per client N
///           | 'categories:' k                 k categories per client
///           | 'quantity:' σ                   log-normal client sizes, IID content
///           | 'holdout:' cat (',' cat)*        exclude these categories from every client (kept for eval)
/// </code>
/// Names are case-insensitive; category names are matched exactly (WordNet has "noun.Tops"). "holdout:…" alone means
/// "iid+holdout:…". Examples: <c>iid</c>, <c>dirichlet:0.5</c>, <c>dirichlet:0.1,min=5</c>, <c>categories:2</c>,
/// <c>quantity:1.0</c>, <c>dirichlet:0.5+holdout:noun.animal,verb.motion</c>.
/// </summary>
public sealed class PartitionScheme
{
    private PartitionScheme(Partitioner basePartitioner, IReadOnlyList<string> holdout)
    {
        Base = basePartitioner;
        HoldoutCategories = holdout;
    }

    /// <summary>The partitioner applied to the records that are not held out.</summary>
    public Partitioner Base { get; }

    /// <summary>Categories excluded from every client.</summary>
    public IReadOnlyList<string> HoldoutCategories { get; }

    /// <summary>A scheme from parts already built.</summary>
    public static PartitionScheme Create(Partitioner basePartitioner, IEnumerable<string>? holdoutCategories = null) =>
        new(basePartitioner ?? throw new ArgumentNullException(nameof(basePartitioner)), (holdoutCategories ?? []).Distinct().ToArray());

    /// <summary>Parses a scheme string (grammar in the class summary).</summary>
    /// <exception cref="ArgumentException">The string is empty, has an unknown part, a bad number, or repeats a part.</exception>
    public static PartitionScheme Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("Partition scheme is empty; use e.g. iid, dirichlet:0.5, categories:2, quantity:1.0 or holdout:CAT.");
        Partitioner? basePartitioner = null;
        string[]? holdout = null;
        foreach (var rawPart in text.Split('+'))
        {
            var part = rawPart.Trim();
            int colon = part.IndexOf(':');
            var name = (colon < 0 ? part : part[..colon]).Trim().ToLowerInvariant();
            var argument = colon < 0 ? null : part[(colon + 1)..].Trim();
            if (part.Length == 0) throw Bad(text, "empty part (two '+' in a row, or a '+' at an end?)");
            if (name == "holdout")
            {
                if (holdout is not null) throw Bad(text, "holdout appears twice; list all categories in one holdout:A,B");
                holdout = (argument ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (holdout.Length == 0) throw Bad(text, "holdout needs at least one category, e.g. holdout:noun.animal");
                continue;
            }
            if (basePartitioner is not null) throw Bad(text, $"'{part}' is a second base scheme; combine one base scheme with holdout only");
            basePartitioner = name switch
            {
                "iid" when argument is null => new IidPartitioner(),
                "iid" => throw Bad(text, "iid takes no argument"),
                "dirichlet" => ParseDirichlet(text, argument),
                "categories" => new CategoryPartitioner(ParseInt(text, "categories", argument)),
                "quantity" => new QuantitySkewPartitioner(ParseDouble(text, "quantity", argument)),
                _ => throw Bad(text, $"unknown part '{name}'; use iid, dirichlet:α, categories:k, quantity:σ or holdout:CAT,…"),
            };
        }
        return new PartitionScheme(basePartitioner ?? new IidPartitioner(), holdout ?? []);
    }

    /// <summary>Applies the scheme with a Mersenne Twister seeded by <paramref name="seed"/>.</summary>
    /// <param name="categories">Category of every record, in record order.</param>
    /// <param name="clientCount">Number of clients.</param>
    /// <param name="seed">Fixes every random draw.</param>
    /// <exception cref="ArgumentException">A holdout category does not occur in the data, or too few records remain.</exception>
    public PartitionResult Apply(IReadOnlyList<string> categories, int clientCount, int seed)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var present = new HashSet<string>(categories, StringComparer.Ordinal);
        foreach (var c in HoldoutCategories)
            if (!present.Contains(c))
                throw new ArgumentException($"Holdout category '{c}' does not occur in the data (categories are case-sensitive).");
        var held = new HashSet<string>(HoldoutCategories, StringComparer.Ordinal);
        var eligible = new List<int>(categories.Count);
        var heldOut = new List<int>();
        for (int i = 0; i < categories.Count; i++) (held.Contains(categories[i]) ? heldOut : eligible).Add(i);
        var eligibleCategories = eligible.Select(i => categories[i]).ToArray();
        var parts = Base.Partition(eligibleCategories, clientCount, new MersenneTwister(seed, threadSafe: false));
        var assigned = new bool[eligible.Count];
        var clients = new int[parts.Length][];
        for (int c = 0; c < parts.Length; c++)
        {
            clients[c] = new int[parts[c].Length];
            for (int j = 0; j < parts[c].Length; j++)
            {
                int position = parts[c][j];
                if (assigned[position]) throw new InvalidOperationException($"{Base.Scheme} assigned record {eligible[position]} twice.");
                assigned[position] = true;
                clients[c][j] = eligible[position];
            }
            Array.Sort(clients[c]);
        }
        var unassigned = Enumerable.Range(0, eligible.Count).Where(p => !assigned[p]).Select(p => eligible[p]).ToArray();
        return new PartitionResult(clients, heldOut.ToArray(), unassigned);
    }

    /// <summary>The canonical string, which parses back to an equal scheme.</summary>
    public override string ToString() =>
        HoldoutCategories.Count == 0 ? Base.Scheme : $"{Base.Scheme}+holdout:{string.Join(',', HoldoutCategories)}";

    private static DirichletPartitioner ParseDirichlet(string text, string? argument)
    {
        var pieces = (argument ?? "").Split(',', StringSplitOptions.TrimEntries);
        double alpha = ParseDouble(text, "dirichlet", pieces[0]);
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw Bad(text, $"dirichlet α must be a positive number, got '{pieces[0]}'");
        int? min = null;
        foreach (var option in pieces.Skip(1))
        {
            if (!option.StartsWith("min=", StringComparison.OrdinalIgnoreCase) || min is not null)
                throw Bad(text, $"dirichlet option '{option}' is not understood; the only option is min=N");
            min = ParseInt(text, "dirichlet min", option[4..], minimum: 0);
        }
        return new DirichletPartitioner(alpha, min);
    }

    private static double ParseDouble(string text, string part, string? argument)
    {
        if (string.IsNullOrEmpty(argument)
            || !double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
            throw Bad(text, $"{part} needs a non-negative number, e.g. {part}:0.5, got '{argument}'");
        return value;
    }

    private static int ParseInt(string text, string part, string? argument, int minimum = 1)
    {
        if (string.IsNullOrEmpty(argument) || !int.TryParse(argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < minimum)
            throw Bad(text, $"{part} needs a whole number ≥ {minimum}, got '{argument}'");
        return value;
    }

    private static ArgumentException Bad(string text, string reason) =>
        new($"Bad partition scheme '{text}': {reason}.");
}
