namespace Federated.Client.Training;

/// <summary>
/// The trainer `federated join` runs when it does not know the federation's method in advance: it holds a FedKSeed and
/// a ComPEFT trainer, initializes neither until the first model change or task says which method the federation runs
/// (SEED_DELTA / fedkseed parameters, or COMPRESSED_ADAPTER / compeft parameters), then forwards everything to that
/// one; the other is never loaded. A trainer that saved its model in an earlier run (<see cref="IResumableTrainer"/>)
/// is selected and initialized at once, and <see cref="InitializeAsync"/> answers its version; otherwise it answers 0
/// without loading a model. A federation that switches method mid-run is refused.
/// </summary>
public sealed class MethodSelectingTrainer(ILocalTrainer fedKSeed, ILocalTrainer comPeft) : ILocalTrainer, IDisposable
{
    private ILocalTrainer? _selected;

    /// <summary>The trainer in use, null before the first delta or task.</summary>
    public ILocalTrainer? Selected => _selected;

    /// <inheritdoc />
    public async ValueTask<long> InitializeAsync(CancellationToken cancellationToken)
    {
        _selected = null;
        foreach (var trainer in new[] { fedKSeed, comPeft })
        {
            if (trainer is not IResumableTrainer { HasSavedModel: true }) continue;
            long version = await trainer.InitializeAsync(cancellationToken).ConfigureAwait(false);
            _selected = trainer;
            return version;
        }
        return 0;
    }

    /// <inheritdoc />
    public async ValueTask ApplyModelDeltaAsync(GlobalModelDelta delta, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var trainer = await SelectAsync(delta.Kind == GlobalModelDeltaKind.SeedDelta, cancellationToken).ConfigureAwait(false);
        await trainer.ApplyModelDeltaAsync(delta, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LocalTrainingResult> TrainAsync(TrainingTask task, DataShard shard, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        if ((task.FedKSeed is null) == (task.ComPeft is null))
            throw new ArgumentException($"Round {task.RoundId} must carry exactly one of FedKSeed or ComPEFT parameters.", nameof(task));
        var trainer = await SelectAsync(task.FedKSeed is not null, cancellationToken).ConfigureAwait(false);
        return await trainer.TrainAsync(task, shard, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<ILocalTrainer> SelectAsync(bool isFedKSeed, CancellationToken cancellationToken)
    {
        var wanted = isFedKSeed ? fedKSeed : comPeft;
        if (_selected is not null)
        {
            if (!ReferenceEquals(_selected, wanted))
                throw new InvalidDataException($"The federation switched to {(isFedKSeed ? "FedKSeed" : "ComPEFT")} mid-run; restart `federated join` with a fresh --state.");
            return _selected;
        }
        long version = await wanted.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (version != 0) throw new InvalidOperationException($"The {(isFedKSeed ? "FedKSeed" : "ComPEFT")} trainer started at version {version}; expected 0.");
        _selected = wanted;
        return wanted;
    }

    /// <summary>Disposes both trainers (those that hold resources, e.g. FedKSeed's held-weights file).</summary>
    public void Dispose()
    {
        (fedKSeed as IDisposable)?.Dispose();
        (comPeft as IDisposable)?.Dispose();
    }
}
