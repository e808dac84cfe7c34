namespace Federated.Cli;

/// <summary>
/// Finds the bundled base model (models/wordnet-base, made by `federated pretrain`; see its README.md) when a verb is
/// run without --model: first under the current folder and its parents, then beside the installed tool.
/// </summary>
internal static class BuiltinModel
{
    public const string RelativePath = "models/wordnet-base";

    public static string Resolve(string? model)
    {
        if (!string.IsNullOrEmpty(model)) return model;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativePath);
                if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            }
        throw new DirectoryNotFoundException(
            $"No --model given and the bundled base model '{RelativePath}' was not found above {Directory.GetCurrentDirectory()}; pass --model DIR.");
    }
}
