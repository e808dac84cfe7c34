using Federated.Client.Training;

namespace Federated.FunctionalTests;

/// <summary>`federated join`'s trainer picks FedKSeed or ComPEFT from the first model change or task, loads only that
/// one, and refuses a federation that switches method.</summary>
public sealed class MethodSelectingTrainerTests
{
    /// <summary>Counts calls; trains nothing.</summary>
    private sealed class CountingTrainer : ILocalTrainer
    {
        public int Initialized { get; private set; }
        public int Applied { get; private set; }
        public int Trained { get; private set; }

        public ValueTask<long> InitializeAsync(CancellationToken cancellationToken)
        {
            Initialized++;
            return ValueTask.FromResult(0L);
        }

        public ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken)
        {
            Applied++;
            return ValueTask.CompletedTask;
        }

        public ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
        {
            Trained++;
            return ValueTask.FromResult(new LocalTrainingResult(new CompressedPayload([1]), 1, new Dictionary<string, double>()));
        }
    }

    private static readonly ComPeftTask ComPeft = new(4, 8f, ["q_proj"], 0.25f, 0f, 1e-2f, 1, 1, true, 7, false, false, 11);
    private static readonly FedKSeedTask FedKSeed = new(16, 7, 4, 1e-3f, 1e-2f, 1, [], 11);

    [Fact]
    public async Task ApplyThenTrain_ComPeftChangeAndTask_OnlyComPeftLoadedAndUsed()
    {
        // Arrange
        var (fedkseed, compeft) = (new CountingTrainer(), new CountingTrainer());
        var trainer = new MethodSelectingTrainer(fedkseed, compeft);

        // Act
        long version = await trainer.InitializeAsync(CancellationToken.None);
        await trainer.ApplyModelDeltaAsync(new GlobalModelDelta(GlobalModelDeltaKind.CompressedAdapter, 0, 1, [], [], [], []), CancellationToken.None);
        await trainer.TrainAsync(new TrainingTask(2, 1, DateTimeOffset.MaxValue, null, ComPeft), new DataShard("x"), CancellationToken.None);

        // Assert
        Assert.Equal(0, version);
        Assert.Same(compeft, trainer.Selected);
        Assert.Equal((1, 1, 1), (compeft.Initialized, compeft.Applied, compeft.Trained));
        Assert.Equal((0, 0, 0), (fedkseed.Initialized, fedkseed.Applied, fedkseed.Trained));
    }

    [Fact]
    public async Task Train_MethodSwitchedAfterFedKSeed_InvalidDataException()
    {
        // Arrange
        var trainer = new MethodSelectingTrainer(new CountingTrainer(), new CountingTrainer());
        await trainer.InitializeAsync(CancellationToken.None);
        await trainer.TrainAsync(new TrainingTask(1, 0, DateTimeOffset.MaxValue, FedKSeed, null), new DataShard("x"), CancellationToken.None);

        // Act
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            await trainer.TrainAsync(new TrainingTask(2, 0, DateTimeOffset.MaxValue, null, ComPeft), new DataShard("x"), CancellationToken.None));

        // Assert
        Assert.Contains("switched to ComPEFT", ex.Message, StringComparison.Ordinal);
    }
}
