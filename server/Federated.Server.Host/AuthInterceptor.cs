using Federated.Server.Coordination;
using Federated.Server.Domain;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Federated.Server.Host;

/// <summary>
/// Every Federation RPC goes through here: checks `authorization: Bearer &lt;token&gt;` (all but Enroll) and stores the
/// client id in <see cref="ServerCallContext.UserState"/>; maps <see cref="FederationException"/> to the precise
/// gRPC status; turns any other failure into INTERNAL without taking the server down.
/// </summary>
internal sealed class AuthInterceptor(FederationCoordinator coordinator, ILogger<AuthInterceptor> logger) : Interceptor
{
    internal const string ClientIdKey = "federated.client_id";
    private const string EnrollMethod = "/federated.v1.Federation/Enroll";
    private const string ServicePrefix = "/federated.v1.Federation/";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            Authenticate(context);
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            Authenticate(context);
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Map(ex, context);
        }
    }

    private void Authenticate(ServerCallContext context)
    {
        if (!context.Method.StartsWith(ServicePrefix, StringComparison.Ordinal) || context.Method == EnrollMethod) return;
        string? header = context.RequestHeaders.GetValue("authorization");
        const string scheme = "Bearer ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new FederationException(FederationError.Unauthenticated, "The authorization header with a Bearer token is missing.");
        context.UserState[ClientIdKey] = coordinator.Authenticate(header[scheme.Length..].Trim());
    }

    private RpcException Map(Exception ex, ServerCallContext context)
    {
        if (ex is RpcException rpc)
        {
            HostLog.Refused(logger, context.Method, rpc.StatusCode, rpc.Status.Detail);
            return rpc;
        }
        if (ex is FederationException fed)
        {
            var code = ToStatusCode(fed.Error);
            HostLog.Refused(logger, context.Method, code, fed.Message);
            return new RpcException(new Status(code, fed.Message));
        }
        HostLog.Failed(logger, context.Method, ex);
        return new RpcException(new Status(StatusCode.Internal, "The server failed to handle the call; it has been logged."));
    }

    internal static StatusCode ToStatusCode(FederationError error) => error switch
    {
        FederationError.InvalidArgument => StatusCode.InvalidArgument,
        FederationError.Unauthenticated => StatusCode.Unauthenticated,
        FederationError.PermissionDenied => StatusCode.PermissionDenied,
        FederationError.FailedPrecondition => StatusCode.FailedPrecondition,
        FederationError.ResourceExhausted => StatusCode.ResourceExhausted,
        FederationError.AlreadyExists => StatusCode.AlreadyExists,
        FederationError.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
