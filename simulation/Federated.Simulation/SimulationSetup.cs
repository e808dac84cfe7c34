using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data;
using Federated.Data.Partitioning;
using Federated.Data.Training;

namespace Federated.Simulation;

/// <summary>
/// What both simulations load before any round: the base model, the encoder of its tokenizer, the client data split
/// into shards by the partition scheme (canaries appended after the task records and planted in client 0's shard),
/// the encoded training examples (shards index into them) and the evaluation records.
/// </summary>
/// <param name="TrainRecordCount">Task records before the canaries.</param>
internal sealed record SimulationSetup(CausalLm Model, ExampleEncoder Encoder, TokenizedExample[] Train, IReadOnlyList<int[]> Shards,
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
        var encoded = encoder.EncodeAll(canaries.Count == 0 ? train : [.. train, .. canaries]);
        var setup = new SimulationSetup(model, encoder, encoded, shards, eval, train.Count, canaries);
        // Loading parsed and tokenized the whole train split; hand that garbage back to the OS now, before the rounds
        // (an aggressive collection compacts and decommits), rather than carrying it as resident memory all run.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return setup;
    }
}
