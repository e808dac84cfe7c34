using Microsoft.Extensions.Logging;

namespace Federated.Server.Host;

/// <summary>Structured logs of the gRPC host (event ids 200-299).</summary>
internal static partial class HostLog
{
    [LoggerMessage(200, LogLevel.Warning, "{Method} refused with {Status}: {Message}")]
    public static partial void Refused(ILogger logger, string method, Grpc.Core.StatusCode status, string message);

    [LoggerMessage(201, LogLevel.Error, "{Method} failed")]
    public static partial void Failed(ILogger logger, string method, Exception exception);

    [LoggerMessage(202, LogLevel.Information, "Federation server ready: method {Method}, state {DataDirectory}")]
    public static partial void Ready(ILogger logger, string method, string dataDirectory);
}
