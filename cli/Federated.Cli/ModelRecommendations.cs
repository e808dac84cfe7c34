using System.Globalization;
using System.Text.Json;

namespace Federated.Cli;

/// <summary>
/// A model folder's recommended federation settings: federation.json beside config.json, an object whose keys are the
/// federation flags without their dashes ("rounds", "lr", "trainable", …) at the top level (both methods) or in a
/// "fedkseed" / "compeft" section (that method; it wins over the top level). Values are JSON numbers, strings or
/// booleans (a boolean flag is set by true); keys starting with "_" are comments. `simulate`, `serve` and `audit` use them where the command line gives no
/// value, and print which they used. An unknown key or a value of the wrong type is bad input naming the file.
/// </summary>
internal sealed class ModelRecommendations
{
    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "federation.json";

    private static readonly string[] Methods = ["fedkseed", "compeft"];
    private readonly Dictionary<string, string> _values;

    private ModelRecommendations(string path, Dictionary<string, string> values)
    {
        Path = path;
        _values = values;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The recommended value of <paramref name="optionName"/> (e.g. "--lr") as text, or null.</summary>
    public string? Get(string optionName) => _values.GetValueOrDefault(optionName.TrimStart('-'));

    /// <summary>The recommendations of <paramref name="modelDirectory"/>/federation.json for <paramref name="method"/>,
    /// or null when the folder has no such file. <paramref name="optionNames"/>: the flags a key may name.</summary>
    public static ModelRecommendations? Load(string modelDirectory, string method, IReadOnlyCollection<string> optionNames)
    {
        string path = System.IO.Path.Combine(modelDirectory, FileName);
        if (!File.Exists(path)) return null;
        var known = optionNames.Select(n => n.TrimStart('-')).Where(n => n != "method").ToHashSet(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} must hold one JSON object.");
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            Read(document.RootElement, path, "", known, values, method);
            if (document.RootElement.TryGetProperty(method, out var section))
            {
                if (section.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: \"{method}\" must be an object.");
                Read(section, path, method + ".", known, values, method: null);
            }
            return new ModelRecommendations(path, values);
        }
    }

    private static void Read(JsonElement obj, string path, string prefix, HashSet<string> known, Dictionary<string, string> values, string? method)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (method is not null && Methods.Contains(property.Name)) continue;   // the sections, read separately
            if (property.Name.StartsWith('_')) continue;                          // comments, e.g. "_about"
            // A key this verb does not have (e.g. "clients" for serve) is skipped only if another verb has it.
            if (!known.Contains(property.Name))
            {
                if (AllVerbsKeys.Contains(property.Name)) continue;
                throw new InvalidDataException($"{path}: \"{prefix}{property.Name}\" is not a federation setting (keys are the flags of `federated simulate` without --).");
            }
            values[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number => property.Value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => throw new InvalidDataException($"{path}: \"{prefix}{property.Name}\" must be a string, number or boolean."),
            };
        }
    }

    /// <summary>Keys some verb has but not every one (the simulated population).</summary>
    private static readonly HashSet<string> AllVerbsKeys = ["clients"];

    /// <summary><paramref name="text"/> as a <paramref name="type"/> value (int, ulong, float, double, bool, string, or
    /// nullable ones); throws InvalidDataException naming the file and key.</summary>
    public static object Convert(string text, Type type, string optionName, string path)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var inv = CultureInfo.InvariantCulture;
        try
        {
            if (target == typeof(string)) return text;
            if (target == typeof(bool)) return bool.Parse(text);
            if (target == typeof(int)) return int.Parse(text, NumberStyles.Integer, inv);
            if (target == typeof(ulong)) return ulong.Parse(text, NumberStyles.Integer, inv);
            if (target == typeof(float)) return float.Parse(text, NumberStyles.Float, inv);
            if (target == typeof(double)) return double.Parse(text, NumberStyles.Float, inv);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: \"{optionName.TrimStart('-')}\" = {text} is not a valid {target.Name} value.");
        }
        throw new NotSupportedException($"{path}: \"{optionName.TrimStart('-')}\" cannot be set from {FileName}.");
    }
}
