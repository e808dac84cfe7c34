namespace Federated.TestKit;

/// <summary>Paths to the PyTorch-made fixtures copied into tests/data/fixtures (see its README.md).</summary>
public static class Fixtures
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding Federated.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>Absolute path of a fixture, e.g. <c>Fixtures.Path("tiny-llama", "config.json")</c>.</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([RepoRoot, "tests", "data", "fixtures", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Federated.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"Federated.sln not found above {AppContext.BaseDirectory}.");
    }
}
