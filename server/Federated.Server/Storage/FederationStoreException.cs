namespace Federated.Server.Storage;

/// <summary>A store could not do what was asked (I/O failure, corrupt or locked file, constraint violation). Every
/// <see cref="IFederationStore"/> throws this for its own failures, wrapping the engine's exception as
/// <see cref="Exception.InnerException"/>, so callers never depend on a database driver. Misuse (a version that does
/// not follow the latest, a closed round) is <see cref="InvalidOperationException"/> instead.</summary>
public sealed class FederationStoreException : Exception
{
    public FederationStoreException(string message) : base(message) { }

    public FederationStoreException(string message, Exception innerException) : base(message, innerException) { }
}
