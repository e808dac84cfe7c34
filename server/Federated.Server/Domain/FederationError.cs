namespace Federated.Server.Domain;

/// <summary>Why a federation call was refused. The Host maps each value to one gRPC status code (docs/protocol.md).</summary>
public enum FederationError
{
    /// <summary>Malformed request or update (gRPC INVALID_ARGUMENT).</summary>
    InvalidArgument,
    /// <summary>Missing, unknown or expired credential or enrollment token (UNAUTHENTICATED).</summary>
    Unauthenticated,
    /// <summary>Authenticated but not allowed (PERMISSION_DENIED).</summary>
    PermissionDenied,
    /// <summary>Wrong base model, stale or closed round, wrong model version, pruned history (FAILED_PRECONDITION).</summary>
    FailedPrecondition,
    /// <summary>Payload above the size limit (RESOURCE_EXHAUSTED).</summary>
    ResourceExhausted,
    /// <summary>A different update was already accepted for this (client, round) (ALREADY_EXISTS).</summary>
    AlreadyExists,
    /// <summary>The server is shutting down; retry with backoff (UNAVAILABLE).</summary>
    Unavailable,
}

/// <summary>A refused federation call: <see cref="Error"/> says which status, the message names the field and value.</summary>
public sealed class FederationException(FederationError error, string message) : Exception(message)
{
    public FederationError Error { get; } = error;

    internal static FederationException Invalid(string message) => new(FederationError.InvalidArgument, message);
    internal static FederationException Precondition(string message) => new(FederationError.FailedPrecondition, message);
}
