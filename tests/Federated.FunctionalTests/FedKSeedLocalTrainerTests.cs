using System.Runtime.InteropServices;
using Federated.Client.FedKSeed;
using Federated.Client.Training;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Data;

namespace Federated.FunctionalTests;

/// <summary>The <see cref="ILocalTrainer"/> contract of the FedKSeed trainer, in-process on the tiny Llama fixture.</summary>
public sealed class FedKSeedLocalTrainerTests : IDisposable
{
    private const int SeedCount = 8;
    private const ulong MasterSeed = 11;
    private readonly string _directory = Directory.CreateTempSubdirectory("fed-local-trainer-").FullName;
    private readonly string _model = Path.Combine(RepositoryRoot(), "tests", "data", "fixtures", "tiny-llama");

    [Fact]
    public async Task TrainAsync_TwiceOnSameTask_SamePayloadAndModelBackAtTaskVersion()
    {
        // Arrange
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        float[] before = trainer.ReadGlobalWeights();
        var task = Task(round: 1, version: 0, learningRate: 1e-2f, stepSeed: 1234);
        var shard = WriteShard(5);

        // Act
        var first = await trainer.TrainAsync(task, shard, CancellationToken.None);
        var second = await trainer.TrainAsync(task, shard, CancellationToken.None);

        // Assert
        Assert.True(BitEqual(before, trainer.ReadGlobalWeights()), "the trained steps were not undone");
        var a = Assert.IsType<SeedScalarsPayload>(first.Payload);
        var b = Assert.IsType<SeedScalarsPayload>(second.Payload);
        Assert.Equal(a.SeedIndices, b.SeedIndices);
        Assert.Equal(a.Scalars, b.Scalars);
        Assert.Equal(4 - (int)first.Metrics["dropped_steps"], a.SeedIndices.Length);
        Assert.All(a.SeedIndices, s => Assert.True(s < SeedCount));
        Assert.Equal(5ul, first.SampleCount);
        Assert.True(double.IsFinite(first.Metrics["train_loss"]));
    }

    [Fact]
    public async Task ApplyModelDelta_BeforeAnyTask_ReplayedWithTheFirstTasksLearningRate()
    {
        // Arrange: ΔH for version 0 → 1 arrives before the trainer has seen a task (so η, K are unknown yet).
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        float[] baseWeights = trainer.ReadGlobalWeights();
        var delta = new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [1u, 5u], [0.5f, -2f], [], []);
        const float eta = 3e-3f;

        // Act
        await trainer.ApplyModelDeltaAsync(delta, CancellationToken.None);
        float[] queued = trainer.ReadGlobalWeights();
        await trainer.TrainAsync(Task(round: 2, version: 1, learningRate: eta, stepSeed: 7), WriteShard(3), CancellationToken.None);

        // Assert: queued (weights untouched), then exactly the replay of ΔH with the task's η.
        Assert.Equal(1, trainer.ModelVersion);
        Assert.True(BitEqual(baseWeights, queued));
        var reference = CausalLm.Load(_model);
        SeedPerturbation.Replay(reference, TrainableSet.Create(reference.Parameters, null), SeedPool.Derive(MasterSeed, SeedCount),
            [new SeedScalar(1, 0.5f), new SeedScalar(5, -2f)], eta);
        Assert.True(BitEqual(reference.Weights.ToArray(), trainer.ReadGlobalWeights()));
        Assert.False(BitEqual(baseWeights, trainer.ReadGlobalWeights()));
    }

    [Fact]
    public async Task ApplyModelDelta_TaskNamesTrainableTensors_ReplaysOnlyThoseTensors()
    {
        // Arrange: the server's task says which tensors the federation perturbs (here the RMSNorm weights).
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        var delta = new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [1u, 5u], [0.5f, -2f], [], []);
        const float eta = 3e-3f;
        var task = Task(round: 2, version: 1, learningRate: eta, stepSeed: 7) is var t && t.FedKSeed is { } f
            ? t with { FedKSeed = f with { Trainable = "norm" } } : throw new InvalidOperationException();

        // Act
        await trainer.ApplyModelDeltaAsync(delta, CancellationToken.None);
        await trainer.TrainAsync(task, WriteShard(3), CancellationToken.None);

        // Assert: the replay of ΔH on the norm weights only, as the server's merged checkpoint and the simulator do.
        var reference = CausalLm.Load(_model);
        SeedPerturbation.Replay(reference, TrainableSet.Create(reference.Parameters, "norm"), SeedPool.Derive(MasterSeed, SeedCount),
            [new SeedScalar(1, 0.5f), new SeedScalar(5, -2f)], eta);
        Assert.True(BitEqual(reference.Weights.ToArray(), trainer.ReadGlobalWeights()));
    }

    [Fact]
    public async Task TrainAsync_TaskAtAnotherVersion_Throws()
    {
        // Arrange
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);

        // Act + Assert
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await trainer.TrainAsync(Task(round: 1, version: 3, learningRate: 1e-3f, stepSeed: 1), WriteShard(2), CancellationToken.None));
    }

    private static TrainingTask Task(long round, long version, float learningRate, ulong stepSeed) =>
        new(round, version, DateTimeOffset.MaxValue, new FedKSeedTask(SeedCount, MasterSeed, 4, 1e-3f, learningRate, 1, [], stepSeed), null);

    private DataShard WriteShard(int count)
    {
        string path = Path.Combine(_directory, $"shard-{count}.jsonl");
        InstructionDatasetWriter.Write(path, Enumerable.Range(0, count).Select(i => new InstructionExample($"Say {i}.", "", $"{i} said.", "c")));
        return new DataShard(path);
    }

    private static bool BitEqual(float[] a, float[] b) =>
        MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan()));

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Federated.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Federated.sln not found above the test directory.");
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }
}
