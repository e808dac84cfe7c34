namespace Federated.Client.Training;

/// <summary>
/// A local trainer that saves its exact model in a state directory and resumes from it: when
/// <see cref="HasSavedModel"/> is true (answered without loading the model), <see cref="ILocalTrainer.InitializeAsync"/>
/// may return a version above 0, and the edge client then syncs only the versions after it.
/// </summary>
public interface IResumableTrainer : ILocalTrainer
{
    /// <summary>Whether a saved model exists (its contents are checked when the trainer initializes).</summary>
    bool HasSavedModel { get; }
}
