using Federated.TestKit;

namespace Federated.Core.Tests.Repository;

/// <summary>A clone has everything its sources and docs cite: no path into the workspace around the repository.</summary>
public sealed class SelfContainedTests
{
    private static readonly string[] Extensions = [".cs", ".md", ".props", ".csproj", ".sln", ".sh", ".py", ".proto"];
    private static readonly string[] Skipped = ["bin", "obj", ".git", "runs"];
    // Spelled in pieces so that this file does not match itself (or `git grep` for the same strings).
    private static readonly string[] Forbidden = ["shared" + "/", "/" + "work" + "/"];

    [Fact]
    public void SourcesAndDocs_Scanned_CiteNoPathOutsideRepository()
    {
        // Arrange
        var hits = new List<string>();

        // Act
        foreach (var file in Files(new DirectoryInfo(Fixtures.RepoRoot)))
        {
            int line = 0;
            foreach (var text in File.ReadLines(file.FullName))
            {
                line++;
                foreach (var pattern in Forbidden)
                    if (text.Contains(pattern, StringComparison.Ordinal))
                        hits.Add($"{Path.GetRelativePath(Fixtures.RepoRoot, file.FullName)}:{line}: {pattern}");
            }
        }

        // Assert
        Assert.True(hits.Count == 0, "Paths outside the repository:\n" + string.Join("\n", hits));
    }

    private static IEnumerable<FileInfo> Files(DirectoryInfo directory)
    {
        foreach (var file in directory.EnumerateFiles())
            if (Extensions.Contains(file.Extension, StringComparer.OrdinalIgnoreCase)) yield return file;
        foreach (var child in directory.EnumerateDirectories())
            if (!Skipped.Contains(child.Name, StringComparer.Ordinal))
                foreach (var file in Files(child)) yield return file;
    }
}
