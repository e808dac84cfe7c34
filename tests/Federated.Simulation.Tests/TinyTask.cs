using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Training;
using Federated.TestKit;

namespace Federated.Simulation.Tests;

/// <summary>A dozen WordNet-style records on the tiny-llama fixture: enough for a round, fast on one core.</summary>
internal static class TinyTask
{
    public static string ModelDirectory => Fixtures.Path("tiny-llama");

    /// <summary>Eight definitions (the shared tiny records) and four category questions.</summary>
    public static readonly InstructionExample[] Records =
    [
        .. TinyRecords.Definitions[..8],
        new("Which category?", "Word: horse (noun)", "noun.animal", "noun.animal", "category", "horse"),
        new("Which category?", "Word: jump (verb)", "verb.motion", "verb.motion", "category", "jump"),
        new("Which category?", "Word: oak (noun)", "noun.plant", "noun.plant", "category", "oak"),
        new("Which category?", "Word: blue (adj)", "adj.all", "adj.all", "category", "blue"),
    ];

    /// <summary>Writes the records as JSON Lines into a fresh temp file and returns its path.</summary>
    public static string WriteJsonl()
    {
        string path = Path.Combine(Path.GetTempPath(), $"compeft-tiny-{Guid.NewGuid():N}.jsonl");
        InstructionDatasetWriter.Write(path, Records);
        return path;
    }

    public static (CausalLm Model, TokenizedExample[] Examples) LoadModelAndExamples()
    {
        var model = CausalLm.Load(ModelDirectory);
        var encoder = new ExampleEncoder(HfTokenizer.Load(ModelDirectory), 64);
        return (model, encoder.EncodeAll(Records));
    }
}
