namespace Federated.Protocol.V1;

/// <summary>gRPC metadata keys the server and its clients both read or write, beside the messages of federation.proto.</summary>
public static class FederationMetadata
{
    /// <summary>gRPC A6's server pushback trailer: a non-negative int32 count of milliseconds the server asks the client
    /// to wait before retrying (sent with a rate-limit RESOURCE_EXHAUSTED; a negative or unparsable value means "do not
    /// retry").</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";
}
