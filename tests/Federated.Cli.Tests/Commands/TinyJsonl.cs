using Federated.Data;

namespace Federated.Cli.Tests.Commands;

/// <summary>A throwaway JSONL file of short definitions for CLI runs on the tiny fixtures.</summary>
internal static class TinyJsonl
{
    /// <summary>Writes records offset … offset + count − 1 ("Define: wordI (noun)" → "a thing number I", categories
    /// noun.animal and noun.plant alternating) to a fresh temp file and returns its path.</summary>
    public static string Write(int count = 8, int offset = 0)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cli-tiny-{Guid.NewGuid():N}.jsonl");
        InstructionDatasetWriter.Write(path, Enumerable.Range(offset, count).Select(i =>
            new InstructionExample($"Define: word{i} (noun)", "", $"a thing number {i}", i % 2 == 0 ? "noun.animal" : "noun.plant", "definition")));
        return path;
    }
}
