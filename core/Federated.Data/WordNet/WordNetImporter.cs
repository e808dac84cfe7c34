using System.Globalization;

namespace Federated.Data.WordNet;

/// <summary>Options of <see cref="WordNetImporter.Import"/>.</summary>
public sealed record WordNetImportOptions
{
    /// <summary>Keep a (word, part of speech) only when its index entry's tagsense_cnt is at least this
    /// (senses seen in the SemCor corpus: a proxy for "a word people use"). 1 gives ≈23.6k entries from WordNet 3.0;
    /// 0 keeps all ≈155k.</summary>
    public int MinTaggedSenses { get; init; } = 1;

    /// <summary>How words are assigned to splits.</summary>
    public WordSplit Split { get; init; } = new();
}

/// <summary>The records of each split, in import order (part of speech noun, verb, adjective, adverb; then index order).</summary>
public sealed record WordNetDataset(IReadOnlyDictionary<DataSplit, IReadOnlyList<InstructionExample>> Splits, int EntriesUsed, int EntriesSkipped);

/// <summary>
/// Builds the built-in instruction task from the WordNet 3.0 database files (<c>index.*</c>, <c>data.*</c>, as in
/// Debian's wordnet-base under /usr/share/wordnet). For every (lemma, part of speech) in <c>index.pos</c> whose
/// tagsense_cnt ≥ <see cref="WordNetImportOptions.MinTaggedSenses"/>, its first (most frequent) sense gives two records:
/// <list type="bullet">
/// <item>task <c>definition</c>: instruction "Define: WORD (POS)", no context, response = the gloss's definition
/// (the text before the first quoted example, without trailing ';').</item>
/// <item>task <c>category</c>: instruction <see cref="CategoryInstruction"/>, context "Word: WORD (POS)\nDefinition: GLOSS",
/// response = the lexicographer file, e.g. <c>noun.animal</c> (scored by exact match).</item>
/// </list>
/// Both records carry category = the lexicographer file and word = the lemma as WordNet writes it (underscores as spaces);
/// the split is chosen from that word (see <see cref="WordSplit"/>), so it can be recomputed from the records alone.
/// Synsets are found by the offset written at the start of each data line (not by seeking), so hand-written sample
/// files need no exact byte offsets.
/// </summary>
public static class WordNetImporter
{
    /// <summary>Instruction of the category task.</summary>
    public const string CategoryInstruction =
        "Which WordNet lexicographer category does this word sense belong to? Answer with the category name only.";

    private static readonly (string File, string Name)[] PartsOfSpeech =
        [("noun", "noun"), ("verb", "verb"), ("adj", "adjective"), ("adv", "adverb")];

    private sealed record Synset(int LexFile, string[] Words, string Gloss);

    /// <summary>Reads the WordNet folder and builds the records of every split.</summary>
    /// <exception cref="FileNotFoundException">An index.* or data.* file is missing.</exception>
    /// <exception cref="InvalidDataException">A line is malformed (the message names file and line).</exception>
    public static WordNetDataset Import(string wordNetDirectory, WordNetImportOptions? options = null)
    {
        options ??= new WordNetImportOptions();
        options.Split.Validate();
        if (!Directory.Exists(wordNetDirectory))
            throw new DirectoryNotFoundException($"WordNet folder '{wordNetDirectory}' does not exist (apt-get install wordnet-base gives /usr/share/wordnet).");
        var lexNames = LexicographerFiles.Load(Path.Combine(wordNetDirectory, "lexnames"));
        var splits = Enum.GetValues<DataSplit>().ToDictionary(s => s, _ => new List<InstructionExample>());
        int used = 0, skipped = 0;
        foreach (var (file, posName) in PartsOfSpeech)
        {
            var synsets = ReadData(Path.Combine(wordNetDirectory, "data." + file), lexNames.Count);
            foreach (var (lemma, tagSenses, firstOffset, line) in ReadIndex(Path.Combine(wordNetDirectory, "index." + file)))
            {
                if (tagSenses < options.MinTaggedSenses) continue;
                if (!synsets.TryGetValue(firstOffset, out var synset))
                    throw new InvalidDataException($"{Path.Combine(wordNetDirectory, "index." + file)}:{line}: synset {firstOffset} is not in data.{file}.");
                var definition = Definition(synset.Gloss);
                if (definition.Length == 0) { skipped++; continue; }
                var word = DisplayWord(lemma, synset.Words);
                var category = lexNames[synset.LexFile];
                var target = splits[options.Split.Assign(word)];
                target.Add(new InstructionExample($"Define: {word} ({posName})", "", definition, category, "definition", word));
                target.Add(new InstructionExample(CategoryInstruction, $"Word: {word} ({posName})\nDefinition: {definition}",
                    category, category, "category", word));
                used++;
            }
        }
        return new WordNetDataset(splits.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<InstructionExample>)kv.Value), used, skipped);
    }

    /// <summary>The definition part of a gloss: text before the first '"' (examples are quoted), trimmed of spaces and ';'.</summary>
    public static string Definition(string gloss)
    {
        int quote = gloss.IndexOf('"');
        var text = quote >= 0 ? gloss[..quote] : gloss;
        return text.Trim().TrimEnd(';', ' ').Trim();
    }

    /// <summary>The synset's spelling of the lemma (keeps capitals such as "Einstein"), underscores as spaces.</summary>
    internal static string DisplayWord(string lemma, string[] synsetWords)
    {
        foreach (var w in synsetWords)
            if (string.Equals(w, lemma, StringComparison.OrdinalIgnoreCase)) return w.Replace('_', ' ');
        return lemma.Replace('_', ' ');
    }

    /// <summary>data.pos: "offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id…] p_cnt … | gloss".</summary>
    private static Dictionary<string, Synset> ReadData(string path, int lexFileCount)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"WordNet data file '{path}' does not exist.", path);
        var result = new Dictionary<string, Synset>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == ' ') continue; // license header lines start with two spaces
            int bar = line.IndexOf(" | ", StringComparison.Ordinal);
            var head = (bar >= 0 ? line[..bar] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (head.Length < 4
                || !int.TryParse(head[1], NumberStyles.None, CultureInfo.InvariantCulture, out var lexFile)
                || !int.TryParse(head[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var wordCount)
                || wordCount < 1 || head.Length < 4 + 2 * wordCount)
                throw new InvalidDataException($"{path}:{lineNumber}: expected \"offset lex_filenum ss_type w_cnt word lex_id … | gloss\".");
            if (lexFile >= lexFileCount)
                throw new InvalidDataException($"{path}:{lineNumber}: lex_filenum {lexFile} is not a known lexicographer file (0..{lexFileCount - 1}).");
            var words = new string[wordCount];
            for (int i = 0; i < wordCount; i++) words[i] = StripAdjectiveMarker(head[4 + 2 * i]);
            result[head[0]] = new Synset(lexFile, words, bar >= 0 ? line[(bar + 3)..].Trim() : "");
        }
        return result;
    }

    /// <summary>index.pos: "lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…".</summary>
    private static IEnumerable<(string Lemma, int TagSenses, string FirstOffset, int Line)> ReadIndex(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"WordNet index file '{path}' does not exist.", path);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == ' ') continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || !int.TryParse(f[2], CultureInfo.InvariantCulture, out var synsetCount)
                || !int.TryParse(f[3], CultureInfo.InvariantCulture, out var pointerCount)
                || synsetCount < 1 || f.Length < 4 + pointerCount + 2 + synsetCount
                || !int.TryParse(f[5 + pointerCount], CultureInfo.InvariantCulture, out var tagSenses))
                throw new InvalidDataException($"{path}:{lineNumber}: expected \"lemma pos synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…\".");
            yield return (f[0], tagSenses, f[6 + pointerCount], lineNumber);
        }
    }

    /// <summary>Adjectives may carry a syntactic marker: "galore(ip)", "elect(p)", "former(a)".</summary>
    private static string StripAdjectiveMarker(string word)
    {
        int paren = word.IndexOf('(');
        return paren > 0 && word.EndsWith(')') ? word[..paren] : word;
    }
}
