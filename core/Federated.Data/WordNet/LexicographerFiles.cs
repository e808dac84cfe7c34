namespace Federated.Data.WordNet;

/// <summary>
/// WordNet 3.0's 45 lexicographer files (lexnames(5WN)): the number in a synset's <c>lex_filenum</c> field names
/// its category, e.g. 05 = <c>noun.animal</c>. The table is built in because Debian's wordnet-base package
/// ships no <c>lexnames</c> file; a <c>lexnames</c> file in the WordNet folder overrides it.
/// </summary>
public static class LexicographerFiles
{
    /// <summary>Names by number, 00..44.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
        "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
        "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant", "noun.possession",
        "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
        "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition", "verb.consumption",
        "verb.contact", "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession",
        "verb.social", "verb.stative", "verb.weather", "adj.ppl",
    ];

    /// <summary>
    /// Reads a lexnames file (lines "NN\tname\tsyntactic-category") or returns the built-in table when
    /// <paramref name="path"/> does not exist.
    /// </summary>
    public static IReadOnlyList<string> Load(string path)
    {
        if (!File.Exists(path)) return Names;
        var names = new Dictionary<int, string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !int.TryParse(fields[0], out var number) || number < 0)
                throw new InvalidDataException($"{path}:{lineNumber}: expected \"NN<TAB>name<TAB>category\".");
            names[number] = fields[1];
        }
        var result = new string[names.Count == 0 ? 0 : names.Keys.Max() + 1];
        for (int i = 0; i < result.Length; i++)
            result[i] = names.TryGetValue(i, out var n) ? n : throw new InvalidDataException($"{path}: lexicographer file {i:D2} is missing.");
        return result;
    }
}
