namespace Federated.Client.Training;

/// <summary>
/// A trainer's model-version bookkeeping: the global model changes it has accepted but not applied yet (a trainer
/// applies them once it knows the round's parameters), and the version they lead to. It enforces the contract of
/// <see cref="ILocalTrainer"/>: changes arrive in order (each starts where the last ended) and of the federation's kind,
/// and a round trains from exactly the version held.
/// </summary>
internal sealed class PendingModelDeltas(GlobalModelDeltaKind kind, string method)
{
    private readonly List<GlobalModelDelta> _pending = [];

    /// <summary>The version the local model is at once every pending change is applied.</summary>
    public long Version { get; private set; }

    /// <summary>Accepted changes, oldest first.</summary>
    public IReadOnlyList<GlobalModelDelta> Pending => _pending;

    /// <summary>Nothing pending, the local model at <paramref name="version"/> (0 = the base model; more when a trainer
    /// resumed saved weights).</summary>
    public void Reset(long version = 0)
    {
        _pending.Clear();
        Version = version;
    }

    /// <summary>Checks and queues a change; afterwards <see cref="Version"/> = its ToVersion.</summary>
    public void Enqueue(GlobalModelDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.Kind != kind)
            throw new InvalidDataException($"The {method} trainer received a {delta.Kind} model change; this federation must run {method}.");
        if (delta.FromVersion != Version)
            throw new InvalidDataException($"The model change starts at version {delta.FromVersion}; the trainer holds {Version}.");
        _pending.Add(delta);
        Version = delta.ToVersion;
    }

    /// <summary>Forgets the pending changes after the trainer applied them.</summary>
    public void MarkApplied() => _pending.Clear();

    /// <summary>Throws unless <paramref name="task"/> trains from the version held.</summary>
    public void EnsureTrainsFrom(TrainingTask task)
    {
        if (task.ModelVersion != Version)
            throw new InvalidOperationException($"Round {task.RoundId} trains from version {task.ModelVersion}; the trainer holds {Version}.");
    }
}
