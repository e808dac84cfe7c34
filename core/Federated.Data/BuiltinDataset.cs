using Federated.Data.WordNet;

namespace Federated.Data;

/// <summary>
/// The built-in WordNet task (data/wordnet/*.jsonl.gz), embedded in this assembly as resources
/// <c>wordnet/{pretrain,train,validation,test}.jsonl.gz</c>, so an installed tool needs neither the repository nor the
/// internet. Rebuild with <c>federated data build-wordnet</c>; the next build embeds the new files.
/// </summary>
public static class BuiltinDataset
{
    /// <summary>The name users pass for it, e.g. <c>--data builtin</c> or <c>--data builtin:validation</c>.</summary>
    public const string Name = "builtin";

    /// <summary>Loads one split.</summary>
    public static DataLoadResult Load(DataSplit split)
    {
        var resource = $"wordnet/{WordSplit.FileStem(split)}.jsonl.gz";
        using var stream = typeof(BuiltinDataset).Assembly.GetManifestResourceStream(resource)
            ?? throw new FileNotFoundException($"Built-in resource '{resource}' is missing from Federated.Data (was data/wordnet built?).");
        return InstructionDataset.Load(stream, $"{Name}:{WordSplit.FileStem(split)}");
    }

    /// <summary>True when <paramref name="data"/> names the built-in task ("builtin" or "builtin:SPLIT").</summary>
    public static bool IsBuiltin(string data) =>
        data.Equals(Name, StringComparison.OrdinalIgnoreCase) || data.StartsWith(Name + ":", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads "builtin" (the train split), "builtin:SPLIT" (pretrain, train, validation, test) or a JSONL file path.
    /// </summary>
    public static DataLoadResult LoadByName(string data, DataSplit defaultSplit = DataSplit.Train, DataLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(data);
        if (!IsBuiltin(data)) return InstructionDataset.Load(data, options);
        if (data.Length == Name.Length) return Load(defaultSplit);
        var splitName = data[(Name.Length + 1)..];
        if (!Enum.TryParse<DataSplit>(splitName, ignoreCase: true, out var split) || !Enum.IsDefined(split) || int.TryParse(splitName, out _))
            throw new ArgumentException($"Unknown built-in split '{splitName}'; use pretrain, train, validation or test.");
        return Load(split);
    }
}
