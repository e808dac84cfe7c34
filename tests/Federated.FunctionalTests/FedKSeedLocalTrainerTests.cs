using System.Runtime.InteropServices;
using Federated.Aggregation.FedKSeed;
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
    public async Task InitializeAsync_RestartedFromStateDirectory_NextRoundBitIdenticalToUninterruptedTrainer()
    {
        // Arrange: the server's H over two rounds (seed 1 changes in both, so ΔH(0→2) in one step rounds differently).
        var accumulator = new FedKSeedAccumulator(SeedCount);
        accumulator.Apply(1, [new ClientScalars(3, [new SeedScalar(1, 0.7f), new SeedScalar(5, -1.3f), new SeedScalar(2, 0.11f)])]);
        var delta01 = DeltaSince(accumulator, 0);
        accumulator.Apply(2, [new ClientScalars(2, [new SeedScalar(1, 0.3f), new SeedScalar(6, 2.2f)]), new ClientScalars(5, [new SeedScalar(1, -0.9f)])]);
        var delta12 = DeltaSince(accumulator, 1);
        var shard = WriteShard(5);
        const float eta = 1e-2f;
        string state = Path.Combine(_directory, "client-state");

        using var uninterrupted = new FedKSeedLocalTrainer(_model);
        await uninterrupted.InitializeAsync(CancellationToken.None);
        await uninterrupted.ApplyModelDeltaAsync(delta01, CancellationToken.None);
        await uninterrupted.TrainAsync(Task(round: 2, version: 1, learningRate: eta, stepSeed: 21), shard, CancellationToken.None);
        await uninterrupted.ApplyModelDeltaAsync(delta12, CancellationToken.None);
        var expected = await uninterrupted.TrainAsync(Task(round: 3, version: 2, learningRate: eta, stepSeed: 31), shard, CancellationToken.None);

        using (var killed = new FedKSeedLocalTrainer(_model, stateDirectory: state))
        {
            await killed.InitializeAsync(CancellationToken.None);
            await killed.ApplyModelDeltaAsync(delta01, CancellationToken.None);
            await killed.TrainAsync(Task(round: 2, version: 1, learningRate: eta, stepSeed: 21), shard, CancellationToken.None);
            await killed.ApplyModelDeltaAsync(delta12, CancellationToken.None);
        }

        // Act: a new process on the same state directory syncs what it misses, as the edge client does, and trains round 3.
        using var restarted = new FedKSeedLocalTrainer(_model, stateDirectory: state);
        long held = await restarted.InitializeAsync(CancellationToken.None);
        if (held < 2) await restarted.ApplyModelDeltaAsync(DeltaSince(accumulator, held), CancellationToken.None);
        var actual = await restarted.TrainAsync(Task(round: 3, version: 2, learningRate: eta, stepSeed: 31), shard, CancellationToken.None);

        // Assert
        Assert.True(BitEqual(uninterrupted.ReadGlobalWeights(), restarted.ReadGlobalWeights()), "the restarted trainer holds other weights");
        var e = Assert.IsType<SeedScalarsPayload>(expected.Payload);
        var a = Assert.IsType<SeedScalarsPayload>(actual.Payload);
        Assert.Equal(e.SeedIndices, a.SeedIndices);
        Assert.True(BitEqual(e.Scalars, a.Scalars), "the restarted trainer computed other scalars");
    }

    [Fact]
    public async Task InitializeAsync_SavedWeightsOfAnotherTrainableSet_IgnoredAndStartsAtVersionZero()
    {
        // Arrange
        string state = Path.Combine(_directory, "client-state");
        using (var all = new FedKSeedLocalTrainer(_model, stateDirectory: state))
        {
            await all.InitializeAsync(CancellationToken.None);
            await all.ApplyModelDeltaAsync(new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [1u], [0.5f], [], []), CancellationToken.None);
            await all.TrainAsync(Task(round: 2, version: 1, learningRate: 1e-2f, stepSeed: 3), WriteShard(2), CancellationToken.None);
        }

        // Act
        using var norms = new FedKSeedLocalTrainer(_model, trainablePattern: "norm", stateDirectory: state);
        long held = await norms.InitializeAsync(CancellationToken.None);

        // Assert
        Assert.Equal(0, held);
        Assert.True(BitEqual(CausalLm.Load(_model).Weights.ToArray(), norms.ReadGlobalWeights()));
    }

    private static GlobalModelDelta DeltaSince(FedKSeedAccumulator accumulator, long version)
    {
        var steps = accumulator.DeltaSince(version);
        return new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, version, accumulator.Version,
            [.. steps.Select(s => (uint)s.SeedIndex)], [.. steps.Select(s => s.Value)], [], []);
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

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public async Task ApplyModelDelta_NonFiniteDeltaH_RefusedAndNotApplied(float poison)
    {
        // Arrange
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        float[] before = trainer.ReadGlobalWeights();

        // Act
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await trainer.ApplyModelDeltaAsync(
            new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [1u, 5u], [0.5f, poison], [], []), CancellationToken.None));
        await trainer.TrainAsync(Task(round: 1, version: 0, learningRate: 1e-2f, stepSeed: 3), WriteShard(2), CancellationToken.None);

        // Assert: refused with the seed named; still at version 0 with the base weights, and it still trains from there.
        Assert.Contains("ΔH[5]", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, trainer.ModelVersion);
        Assert.True(BitEqual(before, trainer.ReadGlobalWeights()));
    }

    [Fact]
    public async Task ApplyModelDelta_BeyondRoundsTimesTauTimesG_RefusedAndNotApplied()
    {
        // Arrange: a task with τ = 4 and G = 10 makes the trainer know the bound: one version moves H[s] by at most τ·G = 40.
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        await trainer.TrainAsync(Task(round: 1, version: 0, learningRate: 1e-2f, stepSeed: 3, maxAbsScalar: 10f), WriteShard(2), CancellationToken.None);
        float[] before = trainer.ReadGlobalWeights();

        // Act
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await trainer.ApplyModelDeltaAsync(
            new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [2u], [-41f], [], []), CancellationToken.None));
        float[] afterRefusal = trainer.ReadGlobalWeights();
        await trainer.ApplyModelDeltaAsync(new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 2, [2u], [-79f], [], []), CancellationToken.None);

        // Assert: 41 > 1·4·10 is refused and changes nothing; 79 ≤ 2·4·10 over two versions is applied.
        Assert.Contains("ΔH[2]", ex.Message, StringComparison.Ordinal);
        Assert.True(BitEqual(before, afterRefusal));
        Assert.Equal(2, trainer.ModelVersion);
        Assert.False(BitEqual(before, trainer.ReadGlobalWeights()));
    }

    [Fact]
    public async Task TrainAsync_QueuedDeltaBeyondTheFirstTasksBound_RefusedAndNotApplied()
    {
        // Arrange: a finite but huge ΔH arrives before any task, so it can only be checked once τ and G are known.
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);
        float[] before = trainer.ReadGlobalWeights();
        await trainer.ApplyModelDeltaAsync(new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, 0, 1, [4u], [3.4e38f], [], []), CancellationToken.None);

        // Act
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await trainer.TrainAsync(
            Task(round: 2, version: 1, learningRate: 1e-2f, stepSeed: 3, maxAbsScalar: 1000f), WriteShard(2), CancellationToken.None));

        // Assert
        Assert.Contains("ΔH[4]", ex.Message, StringComparison.Ordinal);
        Assert.True(BitEqual(before, trainer.ReadGlobalWeights()));
    }

    [Fact]
    public async Task TrainAsync_EveryScalarBeyondG_StepsDroppedAndNothingToPush()
    {
        // Arrange: G far below any real |g| of the tiny model.
        using var trainer = new FedKSeedLocalTrainer(_model);
        await trainer.InitializeAsync(CancellationToken.None);

        // Act + Assert: every step is dropped instead of sent (the server would refuse the update)
        var ex = await Assert.ThrowsAsync<InvalidDataException>(async () => await trainer.TrainAsync(
            Task(round: 1, version: 0, learningRate: 1e-2f, stepSeed: 3, maxAbsScalar: 1e-30f), WriteShard(2), CancellationToken.None));
        Assert.Contains("all 4 local steps", ex.Message, StringComparison.Ordinal);
    }

    private static TrainingTask Task(long round, long version, float learningRate, ulong stepSeed, float maxAbsScalar = 0) =>
        new(round, version, DateTimeOffset.MaxValue, new FedKSeedTask(SeedCount, MasterSeed, 4, 1e-3f, learningRate, 1, [], stepSeed, maxAbsScalar), null);

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
