using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Evaluation;
using Federated.Data.Partitioning;
using Federated.Data.Training;

namespace Federated.Simulation;

/// <summary>
/// What both simulations load before any round: the base model, the encoder of its tokenizer, the client data split
/// into shards by the partition scheme (canaries appended after the task records and planted in client 0's shard),
/// the encoded training examples (shards index into them; compact, since the simulator holds the whole split) and the
/// evaluation records.
/// </summary>
/// <param name="TrainRecordCount">Task records before the canaries.</param>
internal sealed record SimulationSetup(CausalLm Model, ExampleEncoder Encoder, TokenizedCorpus Train, IReadOnlyList<int[]> Shards,
    IReadOnlyList<InstructionExample> Eval, int TrainRecordCount, IReadOnlyList<InstructionExample> Canaries)
{
    public static SimulationSetup Load(SimulationOptions options)
    {
        var model = CausalLm.Load(options.ModelDirectory);
        var encoder = new ExampleEncoder(HfTokenizer.Load(options.ModelDirectory), Math.Min(options.MaxLength, model.Config.MaxPositions));
        var train = BuiltinDataset.LoadByName(options.Data, DataSplit.Train).Records;
        var eval = BuiltinDataset.LoadByName(options.EvalData, DataSplit.Validation).Records;
        var partition = PartitionScheme.Parse(options.Partition).Apply(train.Select(r => r.Category).ToArray(), options.Clients, (int)options.Seed);
        var canaries = options.Canaries ?? [];
        var shards = ClientPopulation.PlantCanaries(partition.Clients, train.Count, canaries.Count);
        if (shards.Any(s => s.Length == 0))
            throw new ArgumentException($"Partition '{options.Partition}' left a client with no examples; use fewer --clients or another scheme.");
        var encoded = TokenizedCorpus.Encode(encoder, canaries.Count == 0 ? train : [.. train, .. canaries]);
        encoder.Tokenizer.ClearCache(); // a cache entry per distinct pre-token of the split; rounds only encode eval prompts
        var setup = new SimulationSetup(model, encoder, encoded, shards, eval, train.Count, canaries);
        // Parsing and tokenizing the whole train split left tens of MB of garbage that the GC would otherwise keep
        // resident for the whole run: an aggressive (compacting, decommitting) collection returns it before the rounds.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return setup;
    }

    /// <summary>Response-token loss of <paramref name="model"/> on the first <see cref="SimulationOptions.EvalExamples"/>
    /// evaluation records; Rouge-L and accuracy on <see cref="SimulationOptions.GenerationExamples"/> generations per task
    /// kind when <paramref name="generate"/>.</summary>
    public ModelQuality Evaluate(CausalLm model, SimulationOptions options, bool generate, Action<int, int>? progress)
    {
        var scores = TaskEvaluator.EvaluateDetailed(model, Encoder, Eval,
            new EvaluationOptions { MaxLossExamples = options.EvalExamples, MaxGenerationExamples = generate ? options.GenerationExamples : 0 }, progress);
        return new ModelQuality(scores.Result.Loss, scores.Result.RougeL, scores.Result.Accuracy, scores);
    }
}
