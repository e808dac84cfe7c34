using System.Collections.Concurrent;
using Federated.Client.Training;

namespace Federated.FunctionalTests;

/// <summary>A deterministic stand-in for the integrator's trainer (the tests are about the network): in round r,
/// client number i reports one pair (seed index 8·r + i, scalar 1) from 1 sample. Records every call.</summary>
internal sealed class FakeTrainer(int clientNumber) : ILocalTrainer
{
    public long ModelVersion { get; private set; }
    public ConcurrentDictionary<long, int> TrainCalls { get; } = new();
    public List<GlobalModelDelta> Applied { get; } = [];

    public ValueTask<long> InitializeAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ModelVersion);

    public ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken)
    {
        if (delta.FromVersion != ModelVersion) throw new InvalidOperationException($"Delta from {delta.FromVersion} applied at {ModelVersion}.");
        Applied.Add(delta);
        ModelVersion = delta.ToVersion;
        return ValueTask.CompletedTask;
    }

    public ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
    {
        if (task.ModelVersion != ModelVersion) throw new InvalidOperationException($"Asked to train from {task.ModelVersion} at {ModelVersion}.");
        TrainCalls.AddOrUpdate(task.RoundId, 1, (_, n) => n + 1);
        var payload = new SeedScalarsPayload([(uint)(8 * task.RoundId + clientNumber)], [1f]);
        return ValueTask.FromResult(new LocalTrainingResult(payload, 1, new Dictionary<string, double> { ["train_loss"] = 0.5 }));
    }
}
